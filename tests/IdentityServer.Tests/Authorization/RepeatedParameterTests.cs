using System.Net;
using IdentityServer.Tests.Infrastructure;
using static IdentityServer.Tests.Authorization.AuthorizationErrorRedirectTests;

namespace IdentityServer.Tests.Authorization;

/// <summary>RFC 6749 3.1 and 3.2: a parameter included more than once is <c>invalid_request</c>, at every endpoint.</summary>
public sealed class RepeatedParameterTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    private const string Issuer = "https://localhost/";

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    public async Task Authorize_RepeatedState_RedirectsInvalidRequestWithoutState(string method)
    {
        using var client = factory.CreateOidcClient();
        var parameters = Pairs(OidcTestClient.CodeRequest(TestSeed.PublicClientId, TestSeed.PublicRedirectUri, "openid", Pkce.Create(), state: "first"));
        parameters.Add(new("state", "second"));

        using var response = await SendAuthorizeAsync(client, method, parameters);

        // Neither value can be returned as "the" state: the error goes back without one.
        var returned = AssertRedirected(response, TestSeed.PublicRedirectUri, '?');
        Assert.Equal("invalid_request", returned["error"]);
        Assert.False(returned.ContainsKey("state"));
        Assert.Equal(Issuer, returned["iss"]);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    public async Task Authorize_RepeatedScope_RedirectsInvalidRequestWithState(string method)
    {
        using var client = factory.CreateOidcClient();
        var parameters = Pairs(OidcTestClient.CodeRequest(TestSeed.PublicClientId, TestSeed.PublicRedirectUri, "openid", Pkce.Create(), state: "rs"));
        parameters.Add(new("scope", TestSeed.ApiScope));

        using var response = await SendAuthorizeAsync(client, method, parameters);

        var returned = AssertRedirected(response, TestSeed.PublicRedirectUri, '?');
        Assert.Equal("invalid_request", returned["error"]);
        Assert.Equal("rs", returned["state"]);
        Assert.Equal(Issuer, returned["iss"]);
    }

    [Fact]
    public async Task Authorize_RepeatedParameterFromSignedInUser_IssuesNoCode()
    {
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        var parameters = Pairs(OidcTestClient.CodeRequest(TestSeed.ImplicitConsentClientId, TestSeed.PortalRedirectUri, "openid", null, state: "rn"));
        parameters.Add(new("nonce", "another"));

        using var response = await SendAuthorizeAsync(client, "GET", parameters);

        var returned = AssertRedirected(response, TestSeed.PortalRedirectUri, '?');
        Assert.Equal("invalid_request", returned["error"]);
        Assert.False(returned.ContainsKey("code"));
    }

    [Theory]
    [InlineData("grant_type", "client_credentials")]
    [InlineData("code", "second-code")]
    [InlineData("client_id", TestSeed.WebClientId)]
    [InlineData("redirect_uri", TestSeed.WebRedirectUri)]
    public async Task Token_RepeatedParameter_Returns400InvalidRequest(string name, string value)
    {
        using var client = factory.CreateOidcClient();
        var response = await client.PostAsync("/connect/token",
        [
            new("grant_type", "authorization_code"), new("code", "first-code"), new("redirect_uri", TestSeed.WebRedirectUri),
            new("code_verifier", Pkce.Create().Verifier), new("client_id", TestSeed.WebClientId), new("client_secret", TestSeed.WebClientSecret),
            new(name, value),
        ]);

        // Refused for the repetition itself, not as a missing parameter (which is how OpenIddict reads a repeated one).
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_request", response.Error);
        Assert.Equal($"The '{name}' parameter must not be included more than once.", response["error_description"]);
    }

    [Fact]
    public async Task Token_RepeatedResource_IsNotRefusedAsRepeated()
    {
        // RFC 8707 lets resource repeat. These resources are not registered, so OpenIddict answers
        // invalid_target, exactly as for one of them: the repetition itself is accepted.
        using var client = factory.CreateOidcClient();
        KeyValuePair<string, string>[] request =
        [
            new("grant_type", "client_credentials"), new("client_id", TestSeed.WorkerClientId), new("client_secret", TestSeed.WorkerSecret),
            new("scope", TestSeed.ApiScope), new("resource", "https://orders.example/"),
        ];
        var once = await client.PostAsync("/connect/token", request);
        var twice = await client.PostAsync("/connect/token", [.. request, new("resource", "https://billing.example/")]);

        Assert.Equal(once.Status, twice.Status);
        Assert.Equal(once.Error, twice.Error);
        Assert.DoesNotContain("more than once", twice["error_description"] ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task Introspect_RepeatedToken_Returns400InvalidRequest()
    {
        using var client = factory.CreateOidcClient();
        var worker = await client.ClientCredentialsAsync();
        var response = await client.PostAsync("/connect/introspect",
        [
            new("token", worker["access_token"]!), new("token", "another"), new("client_id", TestSeed.ApiClientId), new("client_secret", TestSeed.ApiSecret),
        ]);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_request", response.Error);
        Assert.Equal("The 'token' parameter must not be included more than once.", response["error_description"]);
    }

    [Fact]
    public async Task Revoke_RepeatedClientSecret_Returns400InvalidRequest()
    {
        using var client = factory.CreateOidcClient();
        var response = await client.PostAsync("/connect/revoke",
        [
            new("token", "whatever"), new("client_id", TestSeed.WebClientId), new("client_secret", TestSeed.WebClientSecret), new("client_secret", "other"),
        ]);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_request", response.Error);
    }

    [Fact]
    public async Task DeviceAuthorization_RepeatedScope_Returns400InvalidRequest()
    {
        using var client = factory.CreateOidcClient();
        var response = await client.PostAsync("/connect/device",
            [new("client_id", TestSeed.PublicClientId), new("scope", "openid"), new("scope", TestSeed.ApiScope)]);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_request", response.Error);
    }

    [Fact]
    public async Task UserInfo_RepeatedAccessToken_Returns400InvalidRequest()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid profile");
        using var response = await client.Http.PostAsync(new Uri("/connect/userinfo", UriKind.Relative), new FormUrlEncodedContent(
            [new("access_token", tokens["access_token"]!), new("access_token", tokens["access_token"]!)]));

        // The user info endpoint states its errors in the WWW-Authenticate header (RFC 6750 3).
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains("error=\"invalid_request\"", challenge.Parameter, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EndSession_RepeatedPostLogoutRedirectUri_ShowsErrorPageWithoutRedirect()
    {
        using var client = factory.CreateOidcClient();
        var uri = Uri.EscapeDataString(TestSeed.WebPostLogoutRedirectUri);
        using var response = await client.Http.GetAsync(new Uri(
            $"/connect/endsession?client_id={TestSeed.WebClientId}&post_logout_redirect_uri={uri}&post_logout_redirect_uri={uri}&state=s", UriKind.Relative));

        await OidcTestClient.AssertErrorPageAsync(response, "invalid_request");
    }

    private static List<KeyValuePair<string, string>> Pairs(Dictionary<string, string?> parameters) =>
        [.. parameters.Select(static p => new KeyValuePair<string, string>(p.Key, p.Value!))];

    private static Task<HttpResponseMessage> SendAuthorizeAsync(OidcTestClient client, string method, List<KeyValuePair<string, string>> parameters) =>
        method == "GET"
            ? client.Http.GetAsync(new Uri("/connect/authorize" + string.Concat(parameters.Select(
                static (p, i) => (i == 0 ? "?" : "&") + Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value))), UriKind.Relative))
            : client.Http.PostAsync(new Uri("/connect/authorize", UriKind.Relative), new FormUrlEncodedContent(parameters));
}
