using System.Net;
using IdentityServer.Sessions;
using IdentityServer.Tests.Infrastructure;
using static IdentityServer.Tests.Admin.AdminTestHelpers;

namespace IdentityServer.Tests.Admin;

public sealed class AdminSessionTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task EndSession_ThroughApi_RevokesItsTokensAtOnceAndRecordsAdmin()
    {
        var userId = await CreateUserAsync(factory, "carol");
        using var browser = factory.CreateOidcClient();
        var tokens = await CodeFlowAsync(browser, "carol");
        var session = Assert.Single(await SessionsAsync(factory, userId));

        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        using var listed = await SendAsync(admin.Http, HttpMethod.Get, $"/api/admin/users/{userId}/sessions", token);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        var view = Assert.Single((await JsonAsync(listed)).EnumerateArray());
        Assert.Equal(session.Id, view.GetProperty("id").GetString());
        Assert.Equal(TestSeed.WebClientId, Assert.Single(view.GetProperty("clients").EnumerateArray()).GetString());

        using var ended = await SendAsync(admin.Http, HttpMethod.Delete, $"/api/admin/users/{userId}/sessions/{session.Id}", token);
        Assert.Equal(HttpStatusCode.NoContent, ended.StatusCode);

        var refresh = await browser.RefreshAsync(tokens["refresh_token"]!);
        Assert.Equal(HttpStatusCode.BadRequest, refresh.Status);
        Assert.Equal("invalid_grant", refresh.Error);
        Assert.Equal("false", (await browser.IntrospectAsync(tokens["access_token"]!))["active"]);

        var stored = Assert.Single(await SessionsAsync(factory, userId));
        Assert.Equal(SessionEndReasons.EndedByAdmin, stored.EndReason);
        Assert.Equal(TestSeed.AdminClientId, stored.EndedBy);

        using var again = await SendAsync(admin.Http, HttpMethod.Delete, $"/api/admin/users/{userId}/sessions/{session.Id}", token);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        using var withEnded = await SendAsync(admin.Http, HttpMethod.Get, $"/api/admin/users/{userId}/sessions?includeEnded=true", token);
        var endedView = Assert.Single((await JsonAsync(withEnded)).EnumerateArray());
        Assert.Equal(SessionEndReasons.EndedByAdmin, endedView.GetProperty("endReason").GetString());
        Assert.Equal(TestSeed.AdminClientId, endedView.GetProperty("endedBy").GetString());
    }

    [Fact]
    public async Task EndSession_UnknownSessionOrUser_Returns404()
    {
        var userId = await CreateUserAsync(factory, "dave");
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        using var session = await SendAsync(admin.Http, HttpMethod.Delete, $"/api/admin/users/{userId}/sessions/no-such-session", token);
        Assert.Equal(HttpStatusCode.NotFound, session.StatusCode);
        Assert.Equal("application/problem+json", session.Content.Headers.ContentType?.MediaType);
        using var user = await SendAsync(admin.Http, HttpMethod.Get, "/api/admin/users/no-such-user", token);
        Assert.Equal(HttpStatusCode.NotFound, user.StatusCode);
        using var sessions = await SendAsync(admin.Http, HttpMethod.Get, "/api/admin/users/no-such-user/sessions", token);
        Assert.Equal(HttpStatusCode.NotFound, sessions.StatusCode);
    }

    [Fact]
    public async Task Lock_EndsAllSessionsAndRefusesSignIn_UnlockAllowsItAgain()
    {
        var userId = await CreateUserAsync(factory, "erin");
        using var first = factory.CreateOidcClient();
        var tokens = await CodeFlowAsync(first, "erin");
        using var second = factory.CreateOidcClient();
        await second.SignInThroughPortalAsync("erin", Password);
        Assert.Equal(2, (await SessionsAsync(factory, userId)).Count(s => s.EndedAt is null));

        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        using var locked = await SendAsync(admin.Http, HttpMethod.Post, $"/api/admin/users/{userId}/lock", token);
        Assert.Equal(HttpStatusCode.OK, locked.StatusCode);
        Assert.Equal(2, (await JsonAsync(locked)).GetProperty("ended").GetInt32());

        var sessions = await SessionsAsync(factory, userId);
        Assert.All(sessions, s => Assert.Equal(SessionEndReasons.UserLocked, s.EndReason));
        Assert.Equal("invalid_grant", (await first.RefreshAsync(tokens["refresh_token"]!)).Error);
        using var user = await SendAsync(admin.Http, HttpMethod.Get, $"/api/admin/users/{userId}", token);
        Assert.True((await JsonAsync(user)).GetProperty("lockedOut").GetBoolean());
        using var events = await SendAsync(admin.Http, HttpMethod.Get, $"/api/admin/events?userId={userId}&type=user_locked", token);
        Assert.Equal(TestSeed.AdminClientId, Assert.Single((await JsonAsync(events)).EnumerateArray()).GetProperty("actor").GetString());

        using var refused = factory.CreateOidcClient();
        Assert.False(await TrySignInAsync(refused, "erin"));

        using var unlocked = await SendAsync(admin.Http, HttpMethod.Post, $"/api/admin/users/{userId}/unlock", token);
        Assert.Equal(HttpStatusCode.NoContent, unlocked.StatusCode);
        using var unlockEvents = await SendAsync(admin.Http, HttpMethod.Get, $"/api/admin/events?userId={userId}&type=user_unlocked", token);
        Assert.Single((await JsonAsync(unlockEvents)).EnumerateArray());
        using var allowed = factory.CreateOidcClient();
        Assert.True(await TrySignInAsync(allowed, "erin"));
    }

    [Fact]
    public async Task EndAllSessions_EndsEveryActiveSession()
    {
        var userId = await CreateUserAsync(factory, "frank");
        using var first = factory.CreateOidcClient();
        await first.SignInThroughPortalAsync("frank", Password);
        using var second = factory.CreateOidcClient();
        await second.SignInThroughPortalAsync("frank", Password);

        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        using var response = await SendAsync(admin.Http, HttpMethod.Delete, $"/api/admin/users/{userId}/sessions", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, (await JsonAsync(response)).GetProperty("ended").GetInt32());
        Assert.All(await SessionsAsync(factory, userId), s => Assert.Equal(SessionEndReasons.EndedByAdmin, s.EndReason));
    }

    [Fact]
    public async Task Delete_EndsSessionsRevokesTokensAndRemovesTheAccount()
    {
        var userId = await CreateUserAsync(factory, "grace");
        using var browser = factory.CreateOidcClient();
        var tokens = await CodeFlowAsync(browser, "grace");

        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        using var deleted = await SendAsync(admin.Http, HttpMethod.Delete, $"/api/admin/users/{userId}", token);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(1, (await JsonAsync(deleted)).GetProperty("endedSessions").GetInt32());

        using var gone = await SendAsync(admin.Http, HttpMethod.Get, $"/api/admin/users/{userId}", token);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(SessionEndReasons.UserDeleted, Assert.Single(await SessionsAsync(factory, userId)).EndReason);
        Assert.Equal("invalid_grant", (await browser.RefreshAsync(tokens["refresh_token"]!)).Error);
        Assert.Equal("false", (await browser.IntrospectAsync(tokens["access_token"]!))["active"]);
        using var events = await SendAsync(admin.Http, HttpMethod.Get, $"/api/admin/events?userId={userId}&type=user_deleted", token);
        var entry = Assert.Single((await JsonAsync(events)).EnumerateArray());
        Assert.Equal(TestSeed.AdminClientId, entry.GetProperty("actor").GetString());
        Assert.Equal("grace", entry.GetProperty("userName").GetString());
        Assert.False(await TrySignInAsync(factory.CreateOidcClient(), "grace"));
    }
}
