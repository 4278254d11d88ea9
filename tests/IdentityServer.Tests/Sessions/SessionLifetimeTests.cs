using System.Net;
using IdentityServer.Data;
using IdentityServer.Pruning;
using IdentityServer.Sessions;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Tests.Sessions;

/// <summary>A server whose clock the test moves: sessions idle out after 1 hour and end 3 hours after sign-in.</summary>
public sealed class SessionClockFactory : IdentityServerFactory
{
    public SessionClockFactory()
    {
        Settings["Sessions:IdleTimeout"] = "01:00:00";
        Settings["Sessions:AbsoluteLifetime"] = "03:00:00";
        Settings["Sessions:MaxPerUser"] = "0";
        // Long-lived refresh tokens, so that only the session can be what ends them.
        Settings["IdentityServer:RefreshTokenLifetime"] = "30.00:00:00";
        Settings["Pruning:MinimumAge"] = "30.00:00:00";
    }

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    // The tests run the pruning job themselves, on this clock.
    protected override void ConfigureTestServices(IWebHostBuilder builder) =>
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Clock);
            RemoveScheduler(services);
        });

    public Task<PruningResult> PruneAsync() =>
        WithScopeAsync(services => ActivatorUtilities.CreateInstance<PruningJob>(services).RunAsync(CancellationToken.None));
}

public sealed class SessionLifetimeTests(SessionClockFactory factory) : IClassFixture<SessionClockFactory>
{
    [Fact]
    public async Task IdleTimeout_WithoutActivity_EndsTheSession_AndRefreshGetsInvalidGrant()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();
        var sid = SessionProbe.Sid(tokens["id_token"]!);

        factory.Clock.Advance(TimeSpan.FromMinutes(61));

        var refresh = await client.RefreshAsync(tokens["refresh_token"]!);
        Assert.Equal(HttpStatusCode.BadRequest, refresh.Status);
        Assert.Equal("invalid_grant", refresh.Error);
        var session = await SessionProbe.FindAsync(factory, sid);
        Assert.Equal(SessionEndReasons.IdleTimeout, session!.EndReason);
        Assert.Equal(SessionService.SystemActor, session.EndedBy);
        // The browser is signed out too.
        using var page = await client.Http.GetAsync(new Uri("/Account/Sessions", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
    }

    [Fact]
    public async Task Activity_PushesTheIdleTimeoutBack_ButNeverPastTheAbsoluteLifetime()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();
        var sid = SessionProbe.Sid(tokens["id_token"]!);
        var expiresAt = (await SessionProbe.FindAsync(factory, sid))!.ExpiresAt;
        var refreshToken = tokens["refresh_token"]!;

        // Used every 40 minutes: more than the idle timeout in total, never idle for an hour.
        foreach (var minutes in new[] { 40, 40, 40 })
        {
            factory.Clock.Advance(TimeSpan.FromMinutes(minutes));
            var refreshed = await client.RefreshAsync(refreshToken);
            Assert.Equal(HttpStatusCode.OK, refreshed.Status);
            refreshToken = refreshed["refresh_token"]!;
        }

        // 10 minutes before the absolute end, a new access token stops exactly at the session's end.
        factory.Clock.Advance(TimeSpan.FromMinutes(50));
        var last = await client.RefreshAsync(refreshToken);
        Assert.Equal(HttpStatusCode.OK, last.Status);
        var exp = DateTimeOffset.FromUnixTimeSeconds(Jwt.Payload(last["access_token"]!).GetProperty("exp").GetInt64());
        Assert.InRange(exp, expiresAt.AddSeconds(-2), expiresAt.AddSeconds(1));
        Assert.True((int)last.Json.GetProperty("expires_in").GetInt32() <= 600);

        factory.Clock.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal("invalid_grant", (await client.RefreshAsync(last["refresh_token"]!)).Error);
        await factory.PruneAsync();
        Assert.Equal(SessionEndReasons.Expired, (await SessionProbe.FindAsync(factory, sid))!.EndReason);
    }

    [Fact]
    public async Task BrowserActivity_KeepsTheSessionAlive()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();
        var sid = SessionProbe.Sid(tokens["id_token"]!);

        factory.Clock.Advance(TimeSpan.FromMinutes(45));
        using (var page = await client.Http.GetAsync(new Uri("/Account/Sessions", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        }
        factory.Clock.Advance(TimeSpan.FromMinutes(45));

        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(tokens["refresh_token"]!)).Status);
        Assert.Null((await SessionProbe.FindAsync(factory, sid))!.EndedAt);
    }

    [Fact]
    public async Task BrowserCookie_OutlivesItsIssueTime_WhileRefreshesKeepTheSessionActive()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();
        var sid = SessionProbe.Sid(tokens["id_token"]!);
        var refreshToken = tokens["refresh_token"]!;

        // The app refreshes; the browser stays away for longer than the idle timeout.
        foreach (var minutes in new[] { 40, 40 })
        {
            factory.Clock.Advance(TimeSpan.FromMinutes(minutes));
            var refreshed = await client.RefreshAsync(refreshToken);
            Assert.Equal(HttpStatusCode.OK, refreshed.Status);
            refreshToken = refreshed["refresh_token"]!;
        }
        factory.Clock.Advance(TimeSpan.FromMinutes(20));

        using var page = await client.Http.GetAsync(new Uri("/Account/Sessions", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Null((await SessionProbe.FindAsync(factory, sid))!.EndedAt);
    }
}

public sealed class SessionPruningTests(SessionClockFactory factory) : IClassFixture<SessionClockFactory>
{
    [Fact]
    public async Task Pruning_EndsIdleSessions_ThenRemovesThemAndOldEvents_KeepingActiveOnes()
    {
        using var idle = factory.CreateOidcClient();
        var idleTokens = await idle.CodeFlowAsync();
        var idleSid = SessionProbe.Sid(idleTokens["id_token"]!);

        factory.Clock.Advance(TimeSpan.FromMinutes(61));
        using var active = factory.CreateOidcClient();
        var activeSid = SessionProbe.Sid((await active.CodeFlowAsync())["id_token"]!);

        var first = await factory.PruneAsync();

        Assert.Equal(1, first.ExpiredSessions);
        var ended = await SessionProbe.FindAsync(factory, idleSid);
        Assert.Equal(SessionEndReasons.IdleTimeout, ended!.EndReason);
        var statuses = await factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>()
            .Set<OpenIddictEntityFrameworkCoreToken>().Where(t => t.Subject != null && t.Authorization != null
                && services.GetRequiredService<ApplicationDbContext>().SessionAuthorizations.Any(l => l.SessionId == idleSid && l.AuthorizationId == t.Authorization.Id))
            .Select(t => t.Status).Distinct().ToListAsync());
        Assert.DoesNotContain(Statuses.Valid, statuses);
        Assert.Null((await SessionProbe.FindAsync(factory, activeSid))!.EndedAt);

        // A month later the ended session is gone (with its links); three months later, its events.
        factory.Clock.Advance(TimeSpan.FromDays(31));
        var second = await factory.PruneAsync();
        Assert.True(second.Sessions >= 1, $"pruned {second.Sessions} sessions");
        Assert.Null(await SessionProbe.FindAsync(factory, idleSid));
        Assert.Equal(0, await factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>()
            .SessionAuthorizations.CountAsync(l => l.SessionId == idleSid)));
        Assert.NotEmpty(await SessionProbe.EventsAsync(factory, idleSid));

        factory.Clock.Advance(TimeSpan.FromDays(60));
        var third = await factory.PruneAsync();
        Assert.True(third.SecurityEvents >= 1);
        Assert.Empty(await SessionProbe.EventsAsync(factory, idleSid));
    }
}
