using System.Net;
using System.Text.Json;
using IdentityServer.BrowserTests.Infrastructure;
using IdentityServer.Seeding;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Playwright;

namespace IdentityServer.BrowserTests.Sessions;

/// <summary>
/// Two browser contexts are two devices of one user. From the first, the sessions page lists both
/// and ends the second: the second's next page load shows the sign-in page, its refresh token is
/// refused and its access token introspects inactive, while the first keeps working.
/// </summary>
public sealed class TwoDevicesTests(IdentityServerHost host, ChromiumFixture chromium)
    : IClassFixture<IdentityServerHost>, IClassFixture<ChromiumFixture>
{
    [BrowserFact]
    public async Task SessionsPage_EndsTheOtherDevice_WhichIsSignedOutEverywhere()
    {
        await using var laptop = await BrowserSession.OpenAsync(chromium.Browser, host.BaseAddress);
        await using var phone = await BrowserSession.OpenAsync(chromium.Browser, host.BaseAddress);
        var laptopTokens = await SignInAsync(laptop);
        var phoneTokens = await SignInAsync(phone);
        var laptopSid = Sid(laptopTokens.IdToken);
        var phoneSid = Sid(phoneTokens.IdToken);
        Assert.NotEqual(laptopSid, phoneSid);

        // The phone is looking at its own sessions page when it gets signed out from the laptop.
        var phonePage = new SessionsPage(phone.Page);
        await phonePage.OpenAsync(host.BaseAddress);
        await Assertions.Expect(phonePage.CurrentBadge(phoneSid)).ToBeVisibleAsync();

        var sessions = new SessionsPage(laptop.Page);
        await sessions.OpenAsync(host.BaseAddress);
        Assert.Contains(laptopSid, await sessions.SessionIdsAsync());
        Assert.Contains(phoneSid, await sessions.SessionIdsAsync());
        await Assertions.Expect(sessions.CurrentBadge(laptopSid)).ToBeVisibleAsync();
        await Assertions.Expect(sessions.CurrentBadge(phoneSid)).ToHaveCountAsync(0);

        await sessions.EndAsync(phoneSid);
        await Assertions.Expect(sessions.Session(phoneSid)).ToHaveCountAsync(0);
        await Assertions.Expect(sessions.Session(laptopSid)).ToBeVisibleAsync();

        // The phone's next page load: its cookie refers to an ended session, so it must sign in.
        await phone.Page.ReloadAsync();
        await phone.Login.WaitAsync();
        Assert.True(phone.Login.IsCurrent, $"Expected the sign-in page, the phone is at {phone.Page.Url}.");

        using var http = host.CreateHttpClient();
        var (status, body) = await PostAsync(http, "connect/token", new()
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = phoneTokens.RefreshToken,
            ["client_id"] = DevelopmentSeed.WebClientId,
            ["client_secret"] = DevelopmentSeed.WebClientSecret,
        });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", body.GetProperty("error").GetString());
        Assert.False(await IsActiveAsync(http, phoneTokens.AccessToken));

        // The laptop is untouched.
        Assert.True(await IsActiveAsync(http, laptopTokens.AccessToken));
        var (laptopStatus, _) = await PostAsync(http, "connect/token", new()
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = laptopTokens.RefreshToken,
            ["client_id"] = DevelopmentSeed.WebClientId,
            ["client_secret"] = DevelopmentSeed.WebClientSecret,
        });
        Assert.Equal(HttpStatusCode.OK, laptopStatus);
    }

    /// <summary>Signs the demo user in on one device (consenting if asked) and redeems the code as the demo web app.</summary>
    private async Task<(string IdToken, string AccessToken, string RefreshToken)> SignInAsync(BrowserSession device)
    {
        var request = AuthorizationRequest.Create();
        await device.StartAsync(request);
        await device.Login.WaitAsync();
        await device.Login.SignInAsync(DevelopmentSeed.UserName, DevelopmentSeed.Password);
        // The consent is remembered per user: only the first device may be asked.
        var consent = device.Page.Locator("#accept");
        var callback = device.WaitForClientCallbackAsync();
        if (await Task.WhenAny(callback, consent.WaitForAsync()) != callback && await consent.IsVisibleAsync())
        {
            await device.Consent.AllowAsync();
        }
        var query = await callback;

        using var http = host.CreateHttpClient();
        var (status, body) = await PostAsync(http, "connect/token", new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = query["code"],
            ["redirect_uri"] = DevelopmentSeed.WebRedirectUri,
            ["code_verifier"] = request.CodeVerifier,
            ["client_id"] = DevelopmentSeed.WebClientId,
            ["client_secret"] = DevelopmentSeed.WebClientSecret,
        });
        Assert.Equal(HttpStatusCode.OK, status);
        return (body.GetProperty("id_token").GetString()!, body.GetProperty("access_token").GetString()!, body.GetProperty("refresh_token").GetString()!);
    }

    private static async Task<bool> IsActiveAsync(HttpClient http, string token)
    {
        var (status, body) = await PostAsync(http, "connect/introspect", new()
        {
            ["token"] = token,
            ["client_id"] = "demo-api",
            ["client_secret"] = "demo-api-secret",
        });
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("active").GetBoolean();
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient http, string path, Dictionary<string, string> form)
    {
        using var content = new FormUrlEncodedContent(form);
        using var response = await http.PostAsync(new Uri(path, UriKind.Relative), content);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.Clone());
    }

    private static string Sid(string jwt)
    {
        using var payload = JsonDocument.Parse(WebEncoders.Base64UrlDecode(jwt.Split('.')[1]));
        return payload.RootElement.GetProperty("sid").GetString()!;
    }
}
