using System.Net;
using System.Text.Json;
using IdentityServer.Seeding;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using static IdentityServer.Tests.Admin.AdminTestHelpers;
using static IdentityServer.Tests.Authorization.AuthorizationErrorRedirectTests;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Tests.Authorization;

/// <summary>
/// Pushed authorization requests (RFC 9126): a client posts its authorization request to
/// <c>/connect/par</c>, authenticated as at the token endpoint, and sends the browser to the
/// authorization endpoint with only <c>client_id</c> and the <c>request_uri</c> it got back. The
/// request URI is bound to that client, used once and short-lived; a client registered with
/// <c>RequirePushedAuthorization</c> cannot send its parameters through the browser at all.
/// </summary>
public sealed class PushedAuthorizationTests(ClientClockFactory factory) : IClassFixture<ClientClockFactory>
{
    private const string RequestUriPrefix = "urn:ietf:params:oauth:request_uri:";

    [Fact]
    public async Task Discovery_AdvertisesTheEndpoint_NotRequiredForEveryClient()
    {
        using var client = factory.CreateBrowserlikeClient();
        var json = JsonDocument.Parse(await client.GetStringAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative))).RootElement;

        Assert.Equal("https://localhost/connect/par", json.GetProperty("pushed_authorization_request_endpoint").GetString());
        Assert.False(json.TryGetProperty("require_pushed_authorization_requests", out var required) && required.GetBoolean());
    }

    [Fact]
    public async Task Push_ThenAuthorizeWithRequestUri_IssuesCodeForThePushedRequest()
    {
        using var user = factory.CreateOidcClient();
        var pkce = Pkce.Create();

        var pushed = await PushAsync(user, OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid profile", pkce, state: "pushed-state"));

        Assert.Equal(HttpStatusCode.Created, pushed.Status);
        var requestUri = pushed["request_uri"]!;
        Assert.StartsWith(RequestUriPrefix, requestUri, StringComparison.Ordinal);
        Assert.InRange(pushed.Json.GetProperty("expires_in").GetInt32(), 535, 540);
        Assert.Equal("no-store", pushed.Message.Headers.CacheControl?.ToString());

        var redirect = await user.AuthorizeAsync(ByReference(TestSeed.WebClientId, requestUri));

        var returned = OidcTestClient.Query(redirect);
        Assert.StartsWith(TestSeed.WebRedirectUri + "?", redirect.AbsoluteUri, StringComparison.Ordinal);
        Assert.Equal("pushed-state", returned["state"]);
        var tokens = await user.TokenAsync(("grant_type", "authorization_code"), ("code", returned["code"]), ("redirect_uri", TestSeed.WebRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        Assert.Equal("openid profile", tokens["scope"]);
    }

    [Fact]
    public async Task RequestUri_UsedTwice_SecondUseRefusedWithoutCode()
    {
        using var user = factory.CreateOidcClient();
        await user.SignInThroughPortalAsync();
        var pushed = await PushAsync(user, OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create()));
        var first = await user.AuthorizeAsync(ByReference(TestSeed.WebClientId, pushed["request_uri"]!));
        Assert.Contains("code", OidcTestClient.Query(first).Keys);

        using var second = await user.GetAuthorizeAsync(ByReference(TestSeed.WebClientId, pushed["request_uri"]!));

        await OidcTestClient.AssertErrorPageAsync(second, "invalid_request_uri");
    }

    [Fact]
    public async Task RequestUri_AfterItsLifetime_Refused()
    {
        using var user = factory.CreateOidcClient();
        await user.SignInThroughPortalAsync();
        var pushed = await PushAsync(user, OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create()));

        factory.Clock.Advance(TimeSpan.FromMinutes(9) + TimeSpan.FromSeconds(1));
        using var response = await user.GetAuthorizeAsync(ByReference(TestSeed.WebClientId, pushed["request_uri"]!));

        await OidcTestClient.AssertErrorPageAsync(response, "invalid_request_uri");
    }

    [Fact]
    public async Task RequestUri_WithAnotherClientId_Refused()
    {
        using var user = factory.CreateOidcClient();
        await user.SignInThroughPortalAsync();
        var pushed = await PushAsync(user, OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create()));

        using var response = await user.GetAuthorizeAsync(ByReference(TestSeed.ImplicitConsentClientId, pushed["request_uri"]!));

        await OidcTestClient.AssertErrorPageAsync(response, "invalid_request_uri");
    }

    [Fact]
    public async Task Push_WithWrongSecret_InvalidClient()
    {
        using var client = factory.CreateOidcClient();
        var parameters = OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create());

        var pushed = await PushAsync(client, parameters, secret: "not-the-secret");

        Assert.Equal(HttpStatusCode.Unauthorized, pushed.Status);
        Assert.Equal("invalid_client", pushed.Error);
    }

    [Fact]
    public async Task Push_ByAPublicClient_WithPkce_Accepted()
    {
        using var client = factory.CreateOidcClient();

        var pushed = await PushAsync(client, OidcTestClient.CodeRequest(TestSeed.PublicClientId, TestSeed.PublicRedirectUri, "openid", Pkce.Create()), secret: null);

        Assert.Equal(HttpStatusCode.Created, pushed.Status);
        Assert.StartsWith(RequestUriPrefix, pushed["request_uri"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Push_WithAScopeTheClientMayNotUse_InvalidScope()
    {
        using var client = factory.CreateOidcClient();

        var pushed = await PushAsync(client, OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid idp.admin", Pkce.Create()));

        Assert.Equal(HttpStatusCode.BadRequest, pushed.Status);
        Assert.Equal("invalid_scope", pushed.Error);
    }

    /// <summary>OpenIddict checks the redirect URI before the endpoint permission: a machine client has none registered.</summary>
    [Fact]
    public async Task Push_ByAMachineClient_RefusedAtItsRedirectUri()
    {
        using var client = factory.CreateOidcClient();
        var parameters = OidcTestClient.CodeRequest(TestSeed.WorkerClientId, "https://worker.example/cb", "openid", Pkce.Create());

        var pushed = await PushAsync(client, parameters, TestSeed.WorkerSecret);

        Assert.Equal(HttpStatusCode.BadRequest, pushed.Status);
        Assert.Equal("invalid_request", pushed.Error);
        Assert.Null(pushed["request_uri"]);
    }

    [Fact]
    public async Task Push_ContainingARequestUri_InvalidRequest()
    {
        using var client = factory.CreateOidcClient();
        var parameters = OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create());
        parameters["request_uri"] = RequestUriPrefix + "made-up";

        var pushed = await PushAsync(client, parameters);

        Assert.Equal(HttpStatusCode.BadRequest, pushed.Status);
        Assert.Equal("invalid_request", pushed.Error);
    }

    [Fact]
    public async Task Push_WithMalformedMaxAge_InvalidRequest()
    {
        using var client = factory.CreateOidcClient();
        var parameters = OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create());
        parameters["max_age"] = "1.5";

        var pushed = await PushAsync(client, parameters);

        Assert.Equal(HttpStatusCode.BadRequest, pushed.Status);
        Assert.Equal("invalid_request", pushed.Error);
        Assert.Contains("max_age", pushed["error_description"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Push_WithARepeatedParameter_InvalidRequest()
    {
        using var client = factory.CreateOidcClient();
        var form = new List<KeyValuePair<string, string>>
        {
            new("client_id", TestSeed.WebClientId), new("client_secret", TestSeed.WebClientSecret), new("response_type", "code"),
            new("redirect_uri", TestSeed.WebRedirectUri), new("scope", "openid"), new("scope", "profile"),
            new("code_challenge", Pkce.Create().Challenge), new("code_challenge_method", "S256"),
        };

        var pushed = await client.PostAsync("/connect/par", form);

        Assert.Equal(HttpStatusCode.BadRequest, pushed.Status);
        Assert.Equal("invalid_request", pushed.Error);
        Assert.Equal("The 'scope' parameter must not be included more than once.", pushed["error_description"]);
    }

    [Fact]
    public async Task Push_WithUnregisteredRedirectUri_InvalidRequest_NothingStored()
    {
        using var client = factory.CreateOidcClient();

        var pushed = await PushAsync(client, OidcTestClient.CodeRequest(TestSeed.WebClientId, "https://attacker.example/cb", "openid", Pkce.Create()));

        Assert.Equal(HttpStatusCode.BadRequest, pushed.Status);
        Assert.Equal("invalid_request", pushed.Error);
        Assert.Null(pushed["request_uri"]);
    }

    [Fact]
    public async Task ClientRequiringPushedRequests_FrontChannelRefused_PushedAccepted_SettingRoundTrips()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        using var created = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients",
            """{ "clientId": "bank", "grantTypes": ["authorization_code"], "scopes": ["openid"], "redirectUris": ["https://bank.example/cb"], "consentType": "implicit", "requirePushedAuthorization": true }""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var secret = (await JsonAsync(created)).GetProperty("clientSecret").GetString()!;
        using var read = await SendJsonAsync(admin, token, HttpMethod.Get, "/api/admin/clients/bank", null);
        Assert.True((await JsonAsync(read)).GetProperty("requirePushedAuthorization").GetBoolean());
        using var user = factory.CreateOidcClient();
        await user.SignInThroughPortalAsync();

        using var frontChannel = await user.GetAuthorizeAsync(OidcTestClient.CodeRequest("bank", "https://bank.example/cb", "openid", Pkce.Create(), state: "front"));

        Assert.False(frontChannel.Headers.Location is { } location && location.OriginalString.Contains("code=", StringComparison.Ordinal), frontChannel.Headers.Location?.ToString());
        if (OidcTestClient.IsRedirect(frontChannel))
        {
            var returned = AssertRedirected(frontChannel, "https://bank.example/cb", '?');
            Assert.Equal("invalid_request", returned["error"]);
        }
        else
        {
            await OidcTestClient.AssertErrorPageAsync(frontChannel, "invalid_request");
        }

        var pushed = await PushAsync(user, OidcTestClient.CodeRequest("bank", "https://bank.example/cb", "openid", Pkce.Create(), state: "back"), "bank", secret);
        Assert.Equal(HttpStatusCode.Created, pushed.Status);
        var redirect = await user.AuthorizeAsync(ByReference("bank", pushed["request_uri"]!));
        Assert.Contains("code", OidcTestClient.Query(redirect).Keys);
        Assert.Equal("back", OidcTestClient.Query(redirect)["state"]);
    }

    [Fact]
    public void Seed_RequirePushedAuthorization_BecomesOpenIddictsRequirement_AndReadsBack()
    {
        var descriptor = Seeder.ToDescriptor(new SeedClient
        {
            ClientId = "bank", ClientSecret = "secret", ClientType = ClientTypes.Confidential, RequirePushedAuthorization = true,
            RedirectUris = ["https://bank.example/cb"], GrantTypes = [GrantTypes.AuthorizationCode],
        });

        Assert.Contains(Requirements.Features.PushedAuthorizationRequests, descriptor.Requirements);
        Assert.True(Seeder.FromDescriptor(descriptor).RequirePushedAuthorization);
        Assert.False(Seeder.FromDescriptor(Seeder.ToDescriptor(new SeedClient
        {
            ClientId = "shop", ClientSecret = "secret", ClientType = ClientTypes.Confidential,
            RedirectUris = ["https://shop.example/cb"], GrantTypes = [GrantTypes.AuthorizationCode],
        })).RequirePushedAuthorization);
    }

    [Fact]
    public void Seed_RequirePushedAuthorizationWithoutTheCodeFlow_RefusedAtLoad()
    {
        var path = Path.Combine(factory.Folder, "par-without-code-flow.json");
        File.WriteAllText(path, """
            { "Clients": [ { "ClientId": "robot", "ClientSecret": "robot-secret-0123456789", "RequirePushedAuthorization": true,
                "GrantTypes": ["client_credentials"] } ] }
            """);

        var error = Assert.Throws<SeedException>(() => SeedLoader.Load(path));

        Assert.Contains("Clients[0] ('robot'): RequirePushedAuthorization needs the authorization_code grant", error.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> ByReference(string clientId, string requestUri) =>
        new() { ["client_id"] = clientId, ["request_uri"] = requestUri };

    private static Task<TokenResponse> PushAsync(OidcTestClient client, Dictionary<string, string?> parameters, string? secret = TestSeed.WebClientSecret) =>
        PushAsync(client, parameters, parameters["client_id"]!, secret);

    private static Task<TokenResponse> PushAsync(OidcTestClient client, Dictionary<string, string?> parameters, string clientId, string? secret)
    {
        var form = parameters.Where(static p => p.Value is not null).Select(static p => new KeyValuePair<string, string>(p.Key, p.Value!)).ToList();
        form.RemoveAll(static p => p.Key == "client_id");
        form.Add(new("client_id", clientId));
        if (secret is not null)
        {
            form.Add(new("client_secret", secret));
        }
        return client.PostAsync("/connect/par", form);
    }
}
