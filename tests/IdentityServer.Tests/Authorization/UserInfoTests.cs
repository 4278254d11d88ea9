using System.Net;
using System.Net.Http.Headers;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Authorization;

public sealed class UserInfoTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task UserInfo_TokenWithProfileAndEmail_ReturnsThoseClaims()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid profile email");
        using var response = await Get(client, tokens["access_token"]);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("Alice Example", response["name"]);
        Assert.Equal(TestSeed.UserName, response["preferred_username"]);
        Assert.Equal(TestSeed.UserEmail, response["email"]);
        Assert.Equal("true", response["email_verified"]);
        Assert.Equal(Jwt.Payload(tokens["id_token"]!).GetProperty("sub").GetString(), response["sub"]);
    }

    [Fact]
    public async Task UserInfo_TokenWithoutEmailScope_OmitsEmail()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid profile");
        using var response = await Get(client, tokens["access_token"]);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Null(response["email"]);
        Assert.NotNull(response["sub"]);
    }

    [Fact]
    public async Task UserInfo_NoToken_Returns401WithBearerChallenge()
    {
        using var client = factory.CreateOidcClient();
        using var response = await Get(client, null);
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("Bearer", response.Message.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task UserInfo_TamperedToken_Returns401InvalidToken()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid profile");
        using var response = await Get(client, tokens["access_token"]![..^6] + "AAAAAA");
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Contains("error=\"invalid_token\"", response.Message.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UserInfo_ClientCredentialsToken_Returns401()
    {
        using var client = factory.CreateOidcClient();
        var token = (await client.ClientCredentialsAsync())["access_token"];
        using var response = await Get(client, token);
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.NotEmpty(response.Message.Headers.WwwAuthenticate);
    }

    private static async Task<DisposableResponse> Get(OidcTestClient client, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        var message = await client.Http.SendAsync(request);
        return new DisposableResponse(await TokenResponse.ReadAsync(message));
    }

    private sealed class DisposableResponse(TokenResponse inner) : IDisposable
    {
        public HttpStatusCode Status => inner.Status;

        public HttpResponseMessage Message => inner.Message;

        public string? this[string name] => inner[name];

        public void Dispose() => inner.Message.Dispose();
    }
}
