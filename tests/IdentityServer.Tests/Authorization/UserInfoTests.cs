using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Authorization;

public sealed partial class UserInfoTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
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
        Assert.Null(response["role"]);
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
    public async Task UserInfo_TokenWithOpenIdOnly_ReturnsOnlySub()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid");
        using var response = await Get(client, tokens["access_token"]);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(["sub"], response.Json.EnumerateObject().Select(static p => p.Name));
    }

    [Fact]
    public async Task UserInfo_TokenInHeader_AnswerIsNotCached()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid profile");
        using var response = await Get(client, tokens["access_token"]);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.True(response.Message.Headers.CacheControl?.NoStore, response.Message.Headers.ToString());
    }

    [Fact]
    public async Task UserInfo_TokenInQueryString_Returns400InvalidRequest()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid profile");
        using var message = await client.Http.GetAsync(new Uri("/connect/userinfo?access_token=" + Uri.EscapeDataString(tokens["access_token"]!), UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, message.StatusCode);
        Assert.Equal("invalid_request", BearerError(message));
        Assert.True(message.Headers.CacheControl?.NoStore, message.Headers.ToString());
    }

    [Fact]
    public async Task UserInfo_TokenInQueryStringAndHeader_Returns400InvalidRequest()
    {
        using var client = factory.CreateOidcClient();
        var token = (await client.CodeFlowAsync("openid profile"))["access_token"]!;
        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo?access_token=" + Uri.EscapeDataString(token));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var message = await client.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, message.StatusCode);
        Assert.Equal("invalid_request", BearerError(message));
    }

    [Fact]
    public async Task UserInfo_TokenInPostedForm_Returns400InvalidRequest()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid profile");
        using var message = await client.Http.PostAsync(
            new Uri("/connect/userinfo", UriKind.Relative),
            new FormUrlEncodedContent([new("access_token", tokens["access_token"]!)]));
        Assert.Equal(HttpStatusCode.BadRequest, message.StatusCode);
        Assert.Equal("invalid_request", BearerError(message));
    }

    [Fact]
    public async Task UserInfo_PostWithTokenInHeader_Returns200()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid profile");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/userinfo") { Content = new FormUrlEncodedContent([]) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens["access_token"]);
        using var message = await client.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, message.StatusCode);
    }

    [Fact]
    public async Task UserInfo_UserTokenWithoutOpenIdScope_Returns403InsufficientScope()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("profile orders");
        Assert.Null(tokens["id_token"]);
        using var response = await Get(client, tokens["access_token"]);
        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.Equal("insufficient_scope", BearerError(response.Message));
        Assert.True(response.Message.Headers.CacheControl?.NoStore, response.Message.Headers.ToString());
    }

    [Fact]
    public async Task UserInfo_ClientCredentialsToken_Returns403InsufficientScope()
    {
        using var client = factory.CreateOidcClient();
        var token = (await client.ClientCredentialsAsync())["access_token"];
        using var response = await Get(client, token);
        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.Equal("insufficient_scope", BearerError(response.Message));
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
        Assert.Equal("invalid_token", BearerError(response.Message));
    }

    /// <summary>Userinfo errors are stated in the WWW-Authenticate header (RFC 6750 3).</summary>
    private static string? BearerError(HttpResponseMessage message)
    {
        var challenge = Assert.Single(message.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        var match = ErrorParameter().Match(challenge.Parameter ?? "");
        return match.Success ? match.Groups["error"].Value : null;
    }

    [GeneratedRegex("(?:^|[ ,])error=\"(?<error>[^\"]*)\"")]
    private static partial Regex ErrorParameter();

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

        public System.Text.Json.JsonElement Json => inner.Json;

        public string? this[string name] => inner[name];

        public void Dispose() => inner.Message.Dispose();
    }
}
