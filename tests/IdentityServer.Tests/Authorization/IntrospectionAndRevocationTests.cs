using System.Net;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Authorization;

public sealed class IntrospectionAndRevocationTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task Introspection_ActiveAccessToken_ReturnsRfc7662Fields()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();
        var response = await client.IntrospectAsync(tokens["access_token"]!);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("true", response["active"]);
        Assert.Equal(TestSeed.WebClientId, response["client_id"]);
        Assert.Equal("https://localhost/", response["iss"]);
        Assert.Equal("access_token", response["token_usage"]);
        Assert.Contains("orders", response["scope"]!.Split(' '));
        Assert.NotNull(response["exp"]);
        Assert.NotNull(response["sub"]);
    }

    [Fact]
    public async Task Introspection_ClientWithoutPermission_Returns400UnauthorizedClient()
    {
        using var client = factory.CreateOidcClient();
        var token = (await client.ClientCredentialsAsync())["access_token"]!;
        var response = await client.IntrospectAsync(token, TestSeed.WorkerClientId, TestSeed.WorkerSecret);
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("unauthorized_client", response.Error);
    }

    [Fact]
    public async Task Introspection_WrongSecret_Returns401InvalidClient()
    {
        using var client = factory.CreateOidcClient();
        var token = (await client.ClientCredentialsAsync())["access_token"]!;
        var response = await client.IntrospectAsync(token, TestSeed.ApiClientId, "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("invalid_client", response.Error);
    }

    [Theory]
    [InlineData("not-a-token")]
    [InlineData("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")]
    public async Task Introspection_GarbageToken_ReturnsInactive(string token)
    {
        using var client = factory.CreateOidcClient();
        var response = await client.IntrospectAsync(token);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("false", response["active"]);
    }

    [Fact]
    public async Task Introspection_TamperedSignature_ReturnsInactive()
    {
        using var client = factory.CreateOidcClient();
        var token = (await client.ClientCredentialsAsync())["access_token"]!;
        var parts = token.Split('.');
        var payload = Jwt.Payload(token).ToString().Replace(TestSeed.WorkerClientId, "admin-tool", StringComparison.Ordinal);
        var forged = $"{parts[0]}.{Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlEncode(System.Text.Encoding.UTF8.GetBytes(payload))}.{parts[2]}";
        Assert.Equal("false", (await client.IntrospectAsync(forged))["active"]);
    }

    [Fact]
    public async Task Revocation_AccessToken_MakesIntrospectionInactive()
    {
        using var client = factory.CreateOidcClient();
        var token = (await client.ClientCredentialsAsync())["access_token"]!;
        var revoke = await client.RevokeAsync(token, TestSeed.WorkerClientId, TestSeed.WorkerSecret);
        Assert.Equal(HttpStatusCode.OK, revoke.Status);
        Assert.Equal("false", (await client.IntrospectAsync(token))["active"]);
    }

    [Fact]
    public async Task Revocation_RefreshToken_MakesRefreshFail()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.RevokeAsync(tokens["refresh_token"]!)).Status);
        var refresh = await client.RefreshAsync(tokens["refresh_token"]!);
        Assert.Equal(HttpStatusCode.BadRequest, refresh.Status);
        Assert.Equal("invalid_grant", refresh.Error);
    }

    [Fact]
    public async Task Revocation_AnotherClientsToken_IsNotRevoked()
    {
        using var client = factory.CreateOidcClient();
        var token = (await client.ClientCredentialsAsync())["access_token"]!;
        var revoke = await client.RevokeAsync(token, TestSeed.WebClientId, TestSeed.WebClientSecret);
        // RFC 7009 2.2: a token the caller may not revoke is treated like an invalid one (200, nothing done).
        Assert.Equal(HttpStatusCode.OK, revoke.Status);
        Assert.Equal("true", (await client.IntrospectAsync(token))["active"]);
    }

    [Fact]
    public async Task Revocation_UnknownToken_Returns200AsRfc7009Requires()
    {
        using var client = factory.CreateOidcClient();
        var revoke = await client.RevokeAsync("no-such-token");
        Assert.Equal(HttpStatusCode.OK, revoke.Status);
    }
}
