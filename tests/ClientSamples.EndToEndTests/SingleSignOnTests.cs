using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ClientSamples.EndToEndTests.Infrastructure;
using Microsoft.Playwright;

namespace ClientSamples.EndToEndTests;

/// <summary>
/// The walk-through of docs/using-it.md in a real browser: sign in to app 1, single sign-on into app 2, both call
/// the API, then the session is ended on the identity provider's sessions page and everything that
/// depends on it stops: the introspecting API, app 1's cookie (back-channel logout), its refresh token.
/// </summary>
[Collection(SamplesDefinition.Name)]
public sealed class SingleSignOnTests(SamplesFixture samples)
{
    private static readonly TimeSpan BackchannelDeadline = TimeSpan.FromSeconds(20);

    [BrowserFact]
    public async Task SessionEndedAtIdentityProvider_AfterSingleSignOn_AppsAndApiRefuseIt()
    {
        await using var context = await samples.Browser.NewContextAsync();
        context.SetDefaultTimeout(Chromium.DefaultTimeout);
        var page = await context.NewPageAsync();
        var login = new LoginPage(page);
        var consent = new ConsentPage(page);
        var loginPagesSeen = 0;
        page.FrameNavigated += (_, frame) =>
        {
            if (frame == page.MainFrame && new Uri(frame.Url).AbsolutePath.Equals(LoginPage.Path, StringComparison.OrdinalIgnoreCase))
            {
                loginPagesSeen++;
            }
        };

        // App 1: a protected page sends the browser to the identity provider: sign-in, then consent.
        await page.GotoAsync(new Uri(samples.Web1, "claims").AbsoluteUri);
        await login.WaitAsync();
        await login.SignInAsync(SamplesFixture.UserName, SamplesFixture.Password);
        await consent.WaitAsync();
        await consent.AllowAsync();
        await page.WaitForURLAsync(new Uri(samples.Web1, "claims").AbsoluteUri);
        Assert.Equal("Alice Example", await page.Locator("dd[data-claim='name']").TextContentAsync());
        var sid = await page.Locator("dd[data-claim='sid']").TextContentAsync();
        Assert.False(string.IsNullOrEmpty(sid));
        Assert.Equal(1, loginPagesSeen);

        // App 2: single sign-on. Its first use asks for consent (explicit consent), never for the password.
        await page.GotoAsync(new Uri(samples.Web2, "claims").AbsoluteUri);
        await consent.WaitAsync();
        await consent.AllowAsync();
        await page.WaitForURLAsync(new Uri(samples.Web2, "claims").AbsoluteUri);
        Assert.Equal("Alice Example", await page.Locator("dd[data-claim='name']").TextContentAsync());
        Assert.Equal(sid, await page.Locator("dd[data-claim='sid']").TextContentAsync());
        Assert.Equal(1, loginPagesSeen);

        // App 2 refreshes on every request: each time a new refresh token replaces the old one, and the
        // app keeps working with the newest.
        var (firstAccess, firstRefresh) = await TokensAsync(page, samples.Web2);
        var (secondAccess, secondRefresh) = await TokensAsync(page, samples.Web2);
        Assert.NotEqual(firstRefresh, secondRefresh);
        Assert.NotEqual(firstAccess, secondAccess);

        // Each app calls its API with its access token: app 1's API introspects, app 2's validates the JWT.
        Assert.Equal("Introspection", await CallApiThroughAppAsync(page, samples.Web1));
        Assert.Equal("Jwt", await CallApiThroughAppAsync(page, samples.Web2));

        var (accessToken, refreshToken) = await TokensAsync(page, samples.Web1);
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, await CallApiAsync(http, samples.IntrospectionApi, accessToken));

        // End the session where the user would: the identity provider's sessions page.
        var sessions = new SessionsPage(page);
        await sessions.OpenAsync(samples.Issuer);
        Assert.Equal([sid!], await sessions.SessionIdsAsync());
        await sessions.EndAsync(sid!);
        await page.WaitForLoadStateAsync(LoadState.Load);

        // At once: introspection says the token is no longer active.
        Assert.Equal(HttpStatusCode.Unauthorized, await CallApiAsync(http, samples.IntrospectionApi, accessToken));
        // The trade-off of local validation: the signed token stays good until it expires.
        Assert.Equal(HttpStatusCode.OK, await CallApiAsync(http, samples.JwtApi, accessToken));

        // App 1 learns it over the back channel and refuses its own cookie on the next request.
        var deadline = DateTime.UtcNow + BackchannelDeadline;
        var signedOut = page.Locator("#signed-out");
        while (true)
        {
            await page.GotoAsync(samples.Web1.AbsoluteUri);
            if (await signedOut.CountAsync() == 1)
            {
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, $"App 1 was still signed in {BackchannelDeadline} after the session ended.\n{samples.Logs()}");
            await Task.Delay(250);
        }
        Assert.Contains("ended at the identity provider", await signedOut.TextContentAsync(), StringComparison.Ordinal);
        Assert.Contains(samples.WebApp1.Output, line => line.Contains("Back-channel logout: session " + sid, StringComparison.Ordinal));

        // And its refresh token is dead too.
        using var refresh = await http.PostAsync(new Uri(samples.Issuer, "connect/token"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = refreshToken,
            ["client_id"] = SamplesFixture.Web1ClientId,
            ["client_secret"] = SamplesFixture.Web1ClientSecret,
        }));
        Assert.Equal(HttpStatusCode.BadRequest, refresh.StatusCode);
        using var error = JsonDocument.Parse(await refresh.Content.ReadAsStringAsync());
        Assert.Equal("invalid_grant", error.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task BackchannelLogout_TokenNotSignedByIdentityProvider_Returns400()
    {
        using var http = new HttpClient();
        // A well-formed JWT (header {"alg":"none","typ":"logout+jwt"}) without a signature.
        const string unsigned = "eyJhbGciOiJub25lIiwidHlwIjoibG9nb3V0K2p3dCJ9.eyJzaWQiOiJ4In0.";
        using var response = await http.PostAsync(new Uri(samples.Web1, "backchannel-logout"),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["logout_token"] = unsigned }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    private static async Task<(string Access, string Refresh)> TokensAsync(IPage page, Uri app)
    {
        await page.GotoAsync(new Uri(app, "tokens").AbsoluteUri);
        var access = await page.Locator("#access-token").TextContentAsync() ?? "";
        var refresh = await page.Locator("#refresh-token").TextContentAsync() ?? "";
        Assert.NotEmpty(access);
        Assert.NotEmpty(refresh);
        return (access, refresh);
    }

    private static async Task<string?> CallApiThroughAppAsync(IPage page, Uri app)
    {
        await page.GotoAsync(new Uri(app, "call-api").AbsoluteUri);
        var result = page.Locator("#api-result");
        Assert.Equal("200", await result.GetAttributeAsync("data-status"));
        var text = await result.TextContentAsync() ?? "";
        using var body = JsonDocument.Parse(text[text.IndexOf('{', StringComparison.Ordinal)..]);
        Assert.Contains("samples-api", body.RootElement.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        return body.RootElement.GetProperty("validatedBy").GetString();
    }

    private static async Task<HttpStatusCode> CallApiAsync(HttpClient http, Uri api, string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(api, "api/hello"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
