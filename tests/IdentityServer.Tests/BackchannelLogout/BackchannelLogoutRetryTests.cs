using System.Net;
using IdentityServer.Audit;
using IdentityServer.BackchannelLogout;
using IdentityServer.Data;
using IdentityServer.Sessions;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace IdentityServer.Tests.BackchannelLogout;

/// <summary>A client whose endpoint fails, with the server's clock under the test's control.</summary>
public sealed class FailingReceiverFactory : BackchannelLogoutFactory
{
    public FailingReceiverFactory()
    {
        Receiver.Status = HttpStatusCode.InternalServerError;
        Settings["BackchannelLogout:MaxAttempts"] = "3";
        Settings["BackchannelLogout:RetryDelay"] = "00:00:10";
    }

    // Starts at the real time so that cookies, codes and tokens issued during sign-in are valid; on a
    // whole second because the database keeps times to a tenth of a millisecond.
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.RemoveAll<TimeProvider>();
        services.AddSingleton<TimeProvider>(Clock);
    }
}

public sealed class BackchannelLogoutRetryTests(FailingReceiverFactory factory) : IClassFixture<FailingReceiverFactory>
{
    [Fact]
    public async Task Delivery_ReceiverAnswers500_IsRetriedWithDoublingDelayThenFailsWithSecurityEvent()
    {
        factory.Receiver.Clear();
        using var browser = factory.CreateOidcClient();
        var tokens = await BackchannelLogoutFactory.SignInAsync(browser, BackchannelLogoutFactory.Shop);
        var sessionId = Jwt.Payload(tokens["id_token"]!).GetProperty("sid").GetString()!;
        await factory.WithScopeAsync(services => services.GetRequiredService<SessionService>()
            .EndAsync(sessionId, SessionEndReasons.EndedByAdmin, "admin-1", CancellationToken.None));

        // First attempt fails: the status is recorded, never the body, and the next try is 10 s away.
        var start = factory.Clock.GetUtcNow();
        Assert.Equal(new BackchannelLogoutResult(0, 1, 0), await factory.RunJobAsync());
        var delivery = Assert.Single(await factory.DeliveriesAsync(sessionId));
        Assert.Equal((BackchannelLogoutStatus.Pending, 1, "HTTP 500"), (delivery.Status, delivery.Attempts, delivery.LastError));
        Assert.Equal(start + TimeSpan.FromSeconds(10), delivery.NextAttemptAt);

        // Not due yet: nothing is sent.
        factory.Clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(new BackchannelLogoutResult(0, 0, 0), await factory.RunJobAsync());
        Assert.Single(factory.Receiver.Receipts);

        // Second attempt after 10 s; the delay doubles to 20 s.
        factory.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(new BackchannelLogoutResult(0, 1, 0), await factory.RunJobAsync());
        delivery = Assert.Single(await factory.DeliveriesAsync(sessionId));
        Assert.Equal(2, delivery.Attempts);
        Assert.Equal(factory.Clock.GetUtcNow() + TimeSpan.FromSeconds(20), delivery.NextAttemptAt);

        factory.Clock.Advance(TimeSpan.FromSeconds(19));
        Assert.Equal(new BackchannelLogoutResult(0, 0, 0), await factory.RunJobAsync());

        // Third attempt (MaxAttempts = 3) fails: given up, with a security event.
        factory.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(new BackchannelLogoutResult(0, 0, 1), await factory.RunJobAsync());
        delivery = Assert.Single(await factory.DeliveriesAsync(sessionId));
        Assert.Equal((BackchannelLogoutStatus.Failed, 3, "HTTP 500"), (delivery.Status, delivery.Attempts, delivery.LastError));
        Assert.Equal(factory.Clock.GetUtcNow(), delivery.CompletedAt);
        Assert.Equal(3, factory.Receiver.Receipts.Count);

        var events = await factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>().SecurityEvents.AsNoTracking()
            .Where(e => e.Type == SecurityEventTypes.BackchannelLogoutFailed && e.SessionId == sessionId).ToListAsync());
        var failed = Assert.Single(events);
        Assert.Equal(BackchannelLogoutFactory.Shop, failed.ClientId);
        Assert.DoesNotContain("receiver-body", failed.Detail, StringComparison.Ordinal);

        // Failed is final.
        factory.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(new BackchannelLogoutResult(0, 0, 0), await factory.RunJobAsync());
        Assert.Equal(3, factory.Receiver.Receipts.Count);
    }

    [Fact]
    public async Task Delivery_NothingListens_RecordsTheErrorKindAndRetries()
    {
        _ = factory.Server;
        var now = factory.Clock.GetUtcNow();
        var id = await factory.WithScopeAsync(async services =>
        {
            var database = services.GetRequiredService<ApplicationDbContext>();
            // Port 1 on loopback: the connection is refused at once.
            var row = new BackchannelLogoutDelivery
            {
                SessionId = "closed-port-session", ClientId = BackchannelLogoutFactory.Wiki, Uri = "http://127.0.0.1:1/logout",
                Subject = "user-1", Issuer = IdentityServerFactory.BaseAddress.AbsoluteUri, CreatedAt = now, NextAttemptAt = now,
                Status = BackchannelLogoutStatus.Pending,
            };
            database.BackchannelLogoutDeliveries.Add(row);
            await database.SaveChangesAsync();
            return row.Id;
        });

        Assert.Equal(new BackchannelLogoutResult(0, 1, 0), await factory.RunJobAsync());

        var delivery = Assert.Single(await factory.DeliveriesAsync("closed-port-session"));
        Assert.Equal((BackchannelLogoutStatus.Pending, 1), (delivery.Status, delivery.Attempts));
        Assert.StartsWith("HttpRequestException", delivery.LastError, StringComparison.Ordinal);
        Assert.Equal(now + TimeSpan.FromSeconds(10), delivery.NextAttemptAt);

        // Out of the way of the other tests of this class, which count what each run does.
        await factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>().BackchannelLogoutDeliveries
            .Where(d => d.Id == id).ExecuteDeleteAsync());
    }

    [Fact]
    public void RetryDelay_ManyFailures_DoublesUpToTheCap()
    {
        _ = factory.Server;
        using var scope = factory.Services.CreateScope();
        var job = ActivatorUtilities.CreateInstance<BackchannelLogoutJob>(scope.ServiceProvider);
        Assert.Equal(
            [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600],
            Enumerable.Range(1, 11).Select(attempts => (int)job.RetryDelay(attempts).TotalSeconds));
    }
}
