using System.Net;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Tests.Authorization;

public sealed class EndSessionTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task EndSession_WithIdTokenHint_ConfirmsThenRedirectsWithStateAndSignsOut()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid profile");
        var url = QueryHelpers.AddQueryString("/connect/endsession", new Dictionary<string, string?>
        {
            ["id_token_hint"] = tokens["id_token"],
            ["post_logout_redirect_uri"] = TestSeed.WebPostLogoutRedirectUri,
            ["state"] = "bye-1",
        });

        var confirmation = await client.NavigateAsync(url);
        Assert.Equal(HttpStatusCode.OK, confirmation.StatusCode);
        Assert.Equal("Shop", (await OidcTestClient.ParseAsync(confirmation)).QuerySelector("#client-name")!.TextContent);

        using var done = await client.SubmitAsync(confirmation, button: "confirm-sign-out");
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        Assert.Equal(TestSeed.WebPostLogoutRedirectUri + "?state=bye-1", done.Headers.Location!.AbsoluteUri);

        // The identity provider's own sign-in is gone.
        var parameters = OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create());
        parameters["prompt"] = "none";
        using var silent = await client.GetAuthorizeAsync(parameters);
        Assert.Equal("login_required", OidcTestClient.Query(silent.Headers.Location!)["error"]);
    }

    [Fact]
    public async Task EndSession_EmptyClientIdWhileSignedIn_ShowsConfirmationNamingTheHintsClient()
    {
        // An empty client_id was looked up as a client id, and the application manager threw: a 500.
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid");
        var url = QueryHelpers.AddQueryString("/connect/endsession", new Dictionary<string, string?>
        {
            ["id_token_hint"] = tokens["id_token"],
            ["client_id"] = "",
        });

        var confirmation = await client.NavigateAsync(url);

        Assert.Equal(HttpStatusCode.OK, confirmation.StatusCode);
        Assert.Equal("Shop", (await OidcTestClient.ParseAsync(confirmation)).QuerySelector("#client-name")!.TextContent);
    }

    [Fact]
    public async Task EndSession_UnregisteredPostLogoutRedirectUri_ShowsErrorPageWithoutRedirect()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid");
        var url = QueryHelpers.AddQueryString("/connect/endsession", new Dictionary<string, string?>
        {
            ["id_token_hint"] = tokens["id_token"],
            ["post_logout_redirect_uri"] = "https://evil.example/logged-out",
        });
        using var response = await client.Http.GetAsync(new Uri(url, UriKind.Relative));
        await OidcTestClient.AssertErrorPageAsync(response);
    }

    [Fact]
    public async Task EndSession_NotSignedIn_RedirectsAtOnce()
    {
        using var client = factory.CreateOidcClient();
        var url = QueryHelpers.AddQueryString("/connect/endsession", new Dictionary<string, string?>
        {
            ["client_id"] = TestSeed.WebClientId,
            ["post_logout_redirect_uri"] = TestSeed.WebPostLogoutRedirectUri,
            ["state"] = "s2",
        });
        using var response = await client.Http.GetAsync(new Uri(url, UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(TestSeed.WebPostLogoutRedirectUri + "?state=s2", response.Headers.Location!.AbsoluteUri);
    }

    [Fact]
    public async Task EndSession_ConfirmationWithoutAntiforgeryToken_IsRejectedAndKeepsTheUserSignedIn()
    {
        using var client = factory.CreateOidcClient();
        await client.CodeFlowAsync("openid");
        using var response = await client.Http.PostAsync(new Uri("/connect/endsession", UriKind.Relative), new FormUrlEncodedContent([new("confirm", "yes")]));
        await OidcTestClient.AssertErrorPageAsync(response, "invalid_request");

        var parameters = OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create());
        parameters["prompt"] = "none";
        using var silent = await client.GetAuthorizeAsync(parameters);
        Assert.Contains("code", OidcTestClient.Query(silent.Headers.Location!).Keys);
    }

    [Fact]
    public async Task EndSession_PostedByClientWhileSignedIn_AsksForConfirmation()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid");
        using var response = await client.Http.PostAsync(new Uri("/connect/endsession", UriKind.Relative), new FormUrlEncodedContent(
            [new("id_token_hint", tokens["id_token"]!), new("post_logout_redirect_uri", TestSeed.WebPostLogoutRedirectUri), new("state", "s3")]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await OidcTestClient.ParseAsync(response);
        Assert.Equal("Shop", page.QuerySelector("#client-name")!.TextContent);
        Assert.Equal("s3", page.QuerySelector("input[name=state]")!.GetAttribute("value"));
    }
}
