using System.Net;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Authorization;

public sealed class AuthorizationCodeFlowTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    private const string AllScopes = "openid profile email offline_access orders";

    [Fact]
    public async Task CodeFlow_SignInAndConsent_IssuesSignedTokensWithAuthTimeAndAudience()
    {
        using var client = factory.CreateOidcClient();
        var pkce = Pkce.Create();
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        var redirect = await client.AuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, AllScopes, pkce, state: "s-123"));

        Assert.StartsWith(TestSeed.WebRedirectUri + "?", redirect.AbsoluteUri, StringComparison.Ordinal);
        var query = OidcTestClient.Query(redirect);
        Assert.Equal("s-123", query["state"]);
        Assert.Equal("https://localhost/", query["iss"]); // RFC 9207

        var tokens = await client.TokenAsync(
            ("grant_type", "authorization_code"), ("code", query["code"]), ("redirect_uri", TestSeed.WebRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        Assert.NotNull(tokens["refresh_token"]);

        var id = Jwt.Payload(tokens["id_token"]!);
        Assert.Equal("RS256", Jwt.Header(tokens["id_token"]!).GetProperty("alg").GetString());
        Assert.Equal(TestSeed.WebClientId, id.GetProperty("aud").GetString());
        Assert.Equal("n-0S6_WzA2Mj", id.GetProperty("nonce").GetString());
        Assert.Equal("Alice Example", id.GetProperty("name").GetString());
        Assert.Equal(TestSeed.UserEmail, id.GetProperty("email").GetString());
        Assert.InRange(id.GetProperty("auth_time").GetInt64(), before - 1, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);

        var access = await Jwt.ValidateAsync(client.Http, tokens["access_token"]!, TestSeed.ApiClientId);
        Assert.True(access.IsValid, access.Exception?.Message);
        Assert.Equal(id.GetProperty("sub").GetString(), access.Claims["sub"]);
    }

    [Fact]
    public async Task CodeFlow_ConsentGivenOnce_IsRememberedForTheNextRequest()
    {
        using var client = factory.CreateOidcClient();
        await client.AuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, AllScopes, Pkce.Create()), TestSeed.SecondUserName, TestSeed.SecondUserPassword);

        // Same browser: neither the sign-in page nor the consent page again (single sign-on).
        using var response = await client.GetAuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, AllScopes, Pkce.Create()));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith(TestSeed.WebRedirectUri, response.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);
        Assert.Contains("code", OidcTestClient.Query(response.Headers.Location!).Keys);
    }

    [Fact]
    public async Task CodeFlow_SecondAppInSameBrowser_GetsInWithoutSigningInAgain()
    {
        using var client = factory.CreateOidcClient();
        await client.AuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create()));

        // The portal has implicit consent: one redirect, straight back with a code.
        using var response = await client.GetAuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.ImplicitConsentClientId, TestSeed.PortalRedirectUri, "openid profile", null));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith(TestSeed.PortalRedirectUri + "?code=", response.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consent_Page_ShowsApplicationNameAndRequestedScopes()
    {
        using var client = factory.CreateOidcClient();
        var login = await client.NavigateAsync(OidcTestClient.AuthorizeUrl(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid email orders", Pkce.Create())));
        var consent = await client.SignInAsync(login, TestSeed.SecondUserName, TestSeed.SecondUserPassword);

        Assert.Equal(HttpStatusCode.OK, consent.StatusCode);
        var page = await OidcTestClient.ParseAsync(consent);
        Assert.Equal("Shop", page.QuerySelector("#client-name")!.TextContent);
        Assert.Equal(["openid", "email", "orders"], page.QuerySelectorAll("li[data-scope]").Select(e => e.GetAttribute("data-scope")!));
        Assert.Contains("Orders API", page.QuerySelector("li[data-scope=orders]")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consent_Denied_RedirectsWithAccessDenied()
    {
        using var client = factory.CreateOidcClient();
        var login = await client.NavigateAsync(OidcTestClient.AuthorizeUrl(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid profile", Pkce.Create(), state: "d1")));
        var consent = await client.SignInAsync(login, TestSeed.SecondUserName, TestSeed.SecondUserPassword);
        using var response = await client.SubmitAsync(consent, button: "deny");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var query = OidcTestClient.Query(response.Headers.Location!);
        Assert.Equal("access_denied", query["error"]);
        Assert.Equal("d1", query["state"]);
    }

    [Fact]
    public async Task Consent_PostWithoutAntiforgeryToken_IsRejected()
    {
        using var client = factory.CreateOidcClient();
        var parameters = OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create());
        parameters["consent"] = "accept";
        using var response = await client.Http.PostAsync(new Uri("/connect/authorize", UriKind.Relative),
            new FormUrlEncodedContent(parameters.Select(p => new KeyValuePair<string, string>(p.Key, p.Value!))));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task PromptNone_NotSignedIn_RedirectsWithLoginRequired()
    {
        using var client = factory.CreateOidcClient();
        var parameters = OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create(), state: "pn");
        parameters["prompt"] = "none";
        using var response = await client.GetAuthorizeAsync(parameters);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var query = OidcTestClient.Query(response.Headers.Location!);
        Assert.Equal("login_required", query["error"]);
        Assert.Equal("pn", query["state"]);
        Assert.Equal("https://localhost/", query["iss"]);
    }

    [Fact]
    public async Task PromptNone_SignedInWithoutConsent_RedirectsWithConsentRequired()
    {
        using var client = factory.CreateOidcClient();
        // Signed in through the implicit-consent portal, never consented to the shop.
        await client.SignInThroughPortalAsync(TestSeed.SecondUserName, TestSeed.SecondUserPassword);
        var parameters = OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid email", Pkce.Create());
        parameters["prompt"] = "none";
        using var response = await client.GetAuthorizeAsync(parameters);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("consent_required", OidcTestClient.Query(response.Headers.Location!)["error"]);
    }

    [Fact]
    public async Task PromptNone_SignedInAndConsented_IssuesCodeWithoutAnyPage()
    {
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        var parameters = OidcTestClient.CodeRequest(TestSeed.ImplicitConsentClientId, TestSeed.PortalRedirectUri, "openid", null);
        parameters["prompt"] = "none";
        using var response = await client.GetAuthorizeAsync(parameters);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("code", OidcTestClient.Query(response.Headers.Location!).Keys);
    }

    [Fact]
    public async Task PromptLogin_AlreadySignedIn_ShowsTheSignInPageAgain()
    {
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        var parameters = OidcTestClient.CodeRequest(TestSeed.ImplicitConsentClientId, TestSeed.PortalRedirectUri, "openid", null);
        parameters["prompt"] = "login";

        var page = await client.NavigateAsync(OidcTestClient.AuthorizeUrl(parameters));
        Assert.Equal("/Account/Login", page.RequestMessage!.RequestUri!.AbsolutePath);

        // Signing in again completes the request instead of looping back to the sign-in page.
        var done = await client.SignInAsync(page, TestSeed.UserName, TestSeed.UserPassword);
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        Assert.StartsWith(TestSeed.PortalRedirectUri + "?code=", done.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PromptConsent_ConsentAlreadyGiven_ShowsTheConsentPageAgain()
    {
        using var client = factory.CreateOidcClient();
        await client.AuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create()));
        var parameters = OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create());
        parameters["prompt"] = "consent";

        var page = await client.NavigateAsync(OidcTestClient.AuthorizeUrl(parameters));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.NotNull((await OidcTestClient.ParseAsync(page)).QuerySelector("#accept"));
    }

    [Fact]
    public async Task MaxAge_ZeroWhenSignedIn_ForcesSignInAndReturnsFreshAuthTime()
    {
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        var parameters = OidcTestClient.CodeRequest(TestSeed.ImplicitConsentClientId, TestSeed.PortalRedirectUri, "openid", null);
        parameters["max_age"] = "0";

        var page = await client.NavigateAsync(OidcTestClient.AuthorizeUrl(parameters));
        Assert.Equal("/Account/Login", page.RequestMessage!.RequestUri!.AbsolutePath);
        var done = await client.SignInAsync(page, TestSeed.UserName, TestSeed.UserPassword);
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        Assert.Contains("code", OidcTestClient.Query(done.Headers.Location!).Keys);
    }

    [Fact]
    public async Task MaxAge_RecentSignIn_DoesNotAskAgain()
    {
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        var parameters = OidcTestClient.CodeRequest(TestSeed.ImplicitConsentClientId, TestSeed.PortalRedirectUri, "openid", null);
        parameters["max_age"] = "3600";
        using var response = await client.GetAuthorizeAsync(parameters);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("code", OidcTestClient.Query(response.Headers.Location!).Keys);
    }

    [Fact]
    public async Task Authorize_UnknownClient_ShowsErrorPageWithoutRedirect()
    {
        using var client = factory.CreateOidcClient();
        using var response = await client.GetAuthorizeAsync(OidcTestClient.CodeRequest("unknown-app", "https://evil.example/cb", "openid", Pkce.Create()));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        var page = await OidcTestClient.ParseAsync(response);
        Assert.Equal("invalid_request", page.QuerySelector("#error-code")!.TextContent);
        Assert.DoesNotContain("evil.example", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://shop.example/signin-oidc/")]
    [InlineData("https://shop.example/signin-oidc?x=1")]
    [InlineData("https://SHOP.example/signin-oidc")]
    [InlineData("https://evil.example/signin-oidc")]
    public async Task Authorize_RedirectUriNotRegisteredExactly_ShowsErrorPageWithoutRedirect(string redirectUri)
    {
        using var client = factory.CreateOidcClient();
        using var response = await client.GetAuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.WebClientId, redirectUri, "openid", Pkce.Create()));

        await OidcTestClient.AssertErrorPageAsync(response);
    }

    [Fact]
    public async Task Authorize_PublicClientWithoutPkce_RedirectsInvalidRequest()
    {
        using var client = factory.CreateOidcClient();
        using var response = await client.GetAuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.PublicClientId, TestSeed.PublicRedirectUri, "openid", pkce: null));

        // The client and its redirect_uri are valid: the error goes back to the client (RFC 6749 4.1.2.1).
        Assert.Equal("invalid_request", AuthorizationErrorRedirectTests.AssertRedirected(response, TestSeed.PublicRedirectUri, '?')["error"]);
    }

    [Fact]
    public async Task Authorize_PlainCodeChallengeMethod_RedirectsInvalidRequest()
    {
        using var client = factory.CreateOidcClient();
        var parameters = OidcTestClient.CodeRequest(TestSeed.PublicClientId, TestSeed.PublicRedirectUri, "openid", Pkce.Create());
        parameters["code_challenge_method"] = "plain";
        using var response = await client.GetAuthorizeAsync(parameters);

        Assert.Equal("invalid_request", AuthorizationErrorRedirectTests.AssertRedirected(response, TestSeed.PublicRedirectUri, '?')["error"]);
    }

    [Fact]
    public async Task Authorize_ScopeNotAllowedForClient_RedirectsInvalidScope()
    {
        using var client = factory.CreateOidcClient();
        using var response = await client.GetAuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.PublicClientId, TestSeed.PublicRedirectUri, "openid email", Pkce.Create()));

        Assert.Equal("invalid_scope", AuthorizationErrorRedirectTests.AssertRedirected(response, TestSeed.PublicRedirectUri, '?')["error"]);
    }

    [Fact]
    public async Task PublicClient_CodeFlowWithPkce_IssuesTokensWithoutSecret()
    {
        using var client = factory.CreateOidcClient();
        var pkce = Pkce.Create();
        var redirect = await client.AuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.PublicClientId, TestSeed.PublicRedirectUri, "openid offline_access", pkce));
        var tokens = await client.TokenAsync(
            ("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]),
            ("redirect_uri", TestSeed.PublicRedirectUri), ("code_verifier", pkce.Verifier), ("client_id", TestSeed.PublicClientId));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        Assert.NotNull(tokens["refresh_token"]);
    }

    [Fact]
    public async Task CodeExchange_WrongCodeVerifier_ReturnsInvalidGrant()
    {
        using var client = factory.CreateOidcClient();
        var redirect = await client.AuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create()));
        var tokens = await client.TokenAsync(
            ("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]), ("redirect_uri", TestSeed.WebRedirectUri),
            ("code_verifier", Pkce.Create().Verifier), ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret));
        Assert.Equal(HttpStatusCode.BadRequest, tokens.Status);
        Assert.Equal("invalid_grant", tokens.Error);
    }

    [Fact]
    public async Task CodeExchange_CodeUsedTwice_ReturnsInvalidGrantAndRevokesTheFirstTokens()
    {
        using var client = factory.CreateOidcClient();
        var pkce = Pkce.Create();
        var redirect = await client.AuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, AllScopes, pkce));
        (string, string)[] exchange =
        [
            ("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]), ("redirect_uri", TestSeed.WebRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret),
        ];
        var first = await client.TokenAsync(exchange);
        Assert.Equal(HttpStatusCode.OK, first.Status);

        var second = await client.TokenAsync(exchange);
        Assert.Equal(HttpStatusCode.BadRequest, second.Status);
        Assert.Equal("invalid_grant", second.Error);

        Assert.Equal("false", (await client.IntrospectAsync(first["access_token"]!))["active"]);
        Assert.Equal("invalid_grant", (await client.RefreshAsync(first["refresh_token"]!)).Error);
    }

    [Fact]
    public async Task FormPost_ResponseMode_PostsCodeWithAScriptTheCspAllows()
    {
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        var parameters = OidcTestClient.CodeRequest(TestSeed.ImplicitConsentClientId, TestSeed.PortalRedirectUri, "openid", null, state: "fp");
        parameters["response_mode"] = "form_post";
        using var response = await client.GetAuthorizeAsync(parameters);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await OidcTestClient.ParseAsync(response);
        var form = page.Forms[0];
        Assert.Equal(TestSeed.PortalRedirectUri, form.Action);
        Assert.Equal("post", form.Method, ignoreCase: true);
        Assert.NotNull(page.QuerySelector("input[name=code]"));
        Assert.Equal("fp", page.QuerySelector("input[name=state]")!.GetAttribute("value"));

        // The page submits itself with an inline script: the CSP must allow exactly that script.
        var script = page.QuerySelector("script")!.TextContent;
        var hash = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(script)));
        var csp = response.Headers.TryGetValues("Content-Security-Policy", out var values) ? values.Single() : "";
        Assert.True(csp.Contains($"'sha256-{hash}'", StringComparison.Ordinal), $"script [{script}] hash {hash} not in CSP [{csp}]");
    }

    [Fact]
    public async Task PromptLogin_ReturnUrlOpenedWithoutSigningIn_SendsBackToSignIn()
    {
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        var parameters = OidcTestClient.CodeRequest(TestSeed.ImplicitConsentClientId, TestSeed.PortalRedirectUri, "openid", null);
        parameters["prompt"] = "login";
        using var challenge = await client.GetAuthorizeAsync(parameters);
        var returnUrl = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(challenge.Headers.Location!.Query)["ReturnUrl"].ToString();
        Assert.StartsWith("/connect/authorize?", returnUrl, StringComparison.Ordinal);

        // Following the return URL directly, without entering the password again, gets no code.
        using var bypass = await client.Http.GetAsync(new Uri(returnUrl, UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, bypass.StatusCode);
        Assert.Equal("/Account/Login", bypass.Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task Authorize_PostedByClient_IsHandledLikeGet()
    {
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        var parameters = OidcTestClient.CodeRequest(TestSeed.ImplicitConsentClientId, TestSeed.PortalRedirectUri, "openid", null, state: "p1");
        using var response = await client.Http.PostAsync(new Uri("/connect/authorize", UriKind.Relative),
            new FormUrlEncodedContent(parameters.Select(p => new KeyValuePair<string, string>(p.Key, p.Value!))));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var query = OidcTestClient.Query(response.Headers.Location!);
        Assert.Equal("p1", query["state"]);
        Assert.Contains("code", query.Keys);
    }
}
