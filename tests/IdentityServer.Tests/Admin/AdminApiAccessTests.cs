using System.Net;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Admin.AdminTestHelpers;

namespace IdentityServer.Tests.Admin;

public sealed class AdminApiAccessTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task AdminApi_NoCredentials_Returns401WithBearerChallenge()
    {
        using var client = factory.CreateOidcClient();
        using var response = await SendAsync(client.Http, HttpMethod.Get, "/api/admin/users");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task AdminApi_FormBodyOverTheValueCountLimit_Returns400()
    {
        // Looking for a bearer token, OpenIddict's validation reads a form body; one over the form
        // limits threw from inside the challenge: a 500.
        using var client = factory.CreateOidcClient();
        using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri("/api/admin/users/nobody", UriKind.Relative))
        {
            Content = new FormUrlEncodedContent(Enumerable.Range(0, 300).Select(static i => new KeyValuePair<string, string>("k" + i, "v"))),
        };
        using var response = await client.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request", (await JsonAsync(response)).GetProperty("error").GetString());
    }

    [Fact]
    public async Task AdminApi_GarbageToken_Returns401()
    {
        using var client = factory.CreateOidcClient();
        using var response = await SendAsync(client.Http, HttpMethod.Get, "/api/admin/users", "not-a-token");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
    }

    [Fact]
    public async Task AdminApi_TokenWithoutAdminScope_Returns403()
    {
        using var client = factory.CreateOidcClient();
        var token = (await client.ClientCredentialsAsync())["access_token"]!;
        using var response = await SendAsync(client.Http, HttpMethod.Get, "/api/admin/users", token);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task AdminApi_NonAdminUserToken_Returns403()
    {
        using var client = factory.CreateOidcClient();
        var token = (await CodeFlowAsync(client, TestSeed.SecondUserName, TestSeed.SecondUserPassword))["access_token"]!;
        using var api = factory.CreateBrowserlikeClient();
        using var response = await SendAsync(api, HttpMethod.Get, "/api/admin/users", token);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task AdminApi_AdminClientToken_Returns200()
    {
        using var client = factory.CreateOidcClient();
        var token = await AdminTokenAsync(client);
        using var response = await SendAsync(client.Http, HttpMethod.Get, "/api/admin/users?query=ali", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await JsonAsync(response);
        Assert.Equal(1, json.GetProperty("total").GetInt32());
        Assert.Equal(TestSeed.UserName, json.GetProperty("items")[0].GetProperty("userName").GetString());
    }

    [Fact]
    public async Task AdminApi_RevokedAdminToken_Returns401()
    {
        using var client = factory.CreateOidcClient();
        var token = await AdminTokenAsync(client);
        var revoke = await client.RevokeAsync(token, TestSeed.AdminClientId, TestSeed.AdminClientSecret);
        Assert.Equal(HttpStatusCode.OK, revoke.Status);
        using var response = await SendAsync(client.Http, HttpMethod.Get, "/api/admin/users", token);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task AdminApi_AdminCookie_Returns200()
    {
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        using var response = await SendAsync(client.Http, HttpMethod.Get, "/api/admin/statistics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AdminApi_NonAdminCookie_Returns403()
    {
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync(TestSeed.SecondUserName, TestSeed.SecondUserPassword);
        using var response = await SendAsync(client.Http, HttpMethod.Get, "/api/admin/users");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task AdminApi_CookiePostWithoutAntiforgery_Returns400AndChangesNothing()
    {
        var userId = await CreateUserAsync(factory, "csrf-target");
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        using var response = await SendAsync(client.Http, HttpMethod.Post, $"/api/admin/users/{userId}/lock");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);

        using var check = await SendAsync(client.Http, HttpMethod.Get, $"/api/admin/users/{userId}");
        Assert.False((await JsonAsync(check)).GetProperty("lockedOut").GetBoolean());
    }

    [Fact]
    public async Task AdminApi_CookiePostWithAntiforgeryHeader_Succeeds()
    {
        var userId = await CreateUserAsync(factory, "csrf-ok");
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        var antiforgery = await AntiforgeryTokenAsync(client, $"/Admin/Users/{userId}");
        using var response = await SendAsync(client.Http, HttpMethod.Post, $"/api/admin/users/{userId}/lock", antiforgery: antiforgery);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var aliceId = await UserIdAsync(factory, TestSeed.UserName);
        var events = await factory.WithScopeAsync(services => Task.FromResult(services.GetRequiredService<ApplicationDbContext>()
            .SecurityEvents.Where(e => e.UserId == userId && e.Type == "user_locked").Select(e => e.Actor).ToList()));
        Assert.Equal([aliceId], events);
    }

    [Fact]
    public async Task AdminApi_BearerPostWithoutAntiforgery_Succeeds()
    {
        var userId = await CreateUserAsync(factory, "bearer-unlock");
        using var client = factory.CreateOidcClient();
        var token = await AdminTokenAsync(client);
        using var response = await SendAsync(client.Http, HttpMethod.Post, $"/api/admin/users/{userId}/unlock", token);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }
}
