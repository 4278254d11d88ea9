using System.Net;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Authorization;

public sealed class ClientCredentialsTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task ClientCredentials_ValidSecret_IssuesSignedJwtForTheScopesResource()
    {
        using var client = factory.CreateOidcClient();
        var response = await client.ClientCredentialsAsync();

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("Bearer", response["token_type"]);
        Assert.InRange(int.Parse(response["expires_in"]!, System.Globalization.CultureInfo.InvariantCulture), 895, 900);
        Assert.Null(response["refresh_token"]);
        var token = response["access_token"]!;
        var header = Jwt.Header(token);
        Assert.Equal("RS256", header.GetProperty("alg").GetString());
        Assert.Equal("at+jwt", header.GetProperty("typ").GetString());

        var validation = await Jwt.ValidateAsync(client.Http, token, TestSeed.ApiClientId);
        Assert.True(validation.IsValid, validation.Exception?.Message);
        Assert.Equal(TestSeed.WorkerClientId, validation.Claims["sub"]);
        Assert.Equal(TestSeed.ApiScope, validation.Claims["scope"]);
    }

    [Fact]
    public async Task ClientCredentials_Token_HasTheClientAsSubjectAndNoUserClaim()
    {
        using var client = factory.CreateOidcClient();
        var response = await client.ClientCredentialsAsync();

        var access = Jwt.Payload(response["access_token"]!);
        Assert.Equal(TestSeed.WorkerClientId, access.GetProperty("sub").GetString());
        Assert.Equal(TestSeed.WorkerClientId, access.GetProperty("client_id").GetString());
        Assert.Equal(
            ["aud", "client_id", "exp", "iat", "iss", "jti", "scope", "sub"],
            access.EnumerateObject().Select(static p => p.Name).Where(static n => !n.StartsWith("oi_", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("openid")]
    [InlineData("openid orders")]
    [InlineData("orders offline_access")]
    public async Task ClientCredentials_OpenIdOrOfflineAccess_Returns400InvalidScope(string scope)
    {
        using var client = factory.CreateOidcClient();
        var response = await client.ClientCredentialsAsync(scope);
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_scope", response.Error);
        Assert.Null(response["id_token"]);
        Assert.Null(response["access_token"]);
    }

    [Fact]
    public async Task ClientCredentials_OpenIdWithWrongSecret_Returns401InvalidClient()
    {
        using var client = factory.CreateOidcClient();
        var response = await client.TokenAsync(
            ("grant_type", "client_credentials"), ("client_id", TestSeed.WorkerClientId), ("client_secret", "wrong"), ("scope", "openid orders"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("invalid_client", response.Error);
    }

    [Fact]
    public async Task ClientCredentials_WrongSecret_Returns401InvalidClient()
    {
        using var client = factory.CreateOidcClient();
        var response = await client.TokenAsync(("grant_type", "client_credentials"), ("client_id", TestSeed.WorkerClientId), ("client_secret", "wrong"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("invalid_client", response.Error);
    }

    [Fact]
    public async Task ClientCredentials_UnknownClient_Returns401InvalidClient()
    {
        using var client = factory.CreateOidcClient();
        var response = await client.TokenAsync(("grant_type", "client_credentials"), ("client_id", "nobody"), ("client_secret", "x"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("invalid_client", response.Error);
    }

    [Fact]
    public async Task ClientCredentials_ScopeNotGrantedToClient_ReturnsInvalidScope()
    {
        using var client = factory.CreateOidcClient();
        var response = await client.ClientCredentialsAsync(scope: "orders email");
        Assert.True(response.Error == "invalid_scope", response.Json.ToString());
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_scope", response.Error);
    }

    [Fact]
    public async Task ClientCredentials_UnknownScope_ReturnsInvalidScope()
    {
        using var client = factory.CreateOidcClient();
        var response = await client.ClientCredentialsAsync(scope: "does-not-exist");
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_scope", response.Error);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("openid")]
    [InlineData("openid offline_access")]
    public async Task ClientCredentials_GrantNotAllowedForClient_ReturnsUnauthorizedClient(string? scope)
    {
        using var client = factory.CreateOidcClient();
        var response = await client.TokenAsync([
            ("grant_type", "client_credentials"), ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret),
            .. scope is null ? Array.Empty<(string, string)>() : [("scope", scope)]]);
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("unauthorized_client", response.Error);
    }

    [Fact]
    public async Task ClientCredentials_SixtyFourConcurrentRequests_AllSucceedWithoutDatabaseLocks()
    {
        using var client = factory.CreateOidcClient();
        var responses = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => client.ClientCredentialsAsync()));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.Equal(64, responses.Select(r => r["access_token"]).Distinct().Count());
    }
}
