using IdentityServer.Audit;
using IdentityServer.BackchannelLogout;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IdentityServer.Tests.BackchannelLogout;

/// <summary>
/// The delivery-time check: the addresses a back-channel URI resolves to when the logout token is
/// sent. The rows are written directly, as a URI stored before the seed rules (or by another tool)
/// would be: the seed never lets these URIs in for a client that is not allowed.
/// </summary>
public sealed class BackchannelLogoutTargetTests(BackchannelLogoutFactory factory) : IClassFixture<BackchannelLogoutFactory>
{
    [Theory]
    [InlineData("localhost", "refused: localhost resolves to ")]
    [InlineData("127.0.0.1", "refused: 127.0.0.1 is a loopback address")]
    public async Task Delivery_ToLoopbackForClientNotAllowed_IsRefusedAndFailsAtOnce(string host, string expectedError)
    {
        var sessionId = await QueueAsync(BackchannelLogoutFactory.Portal, host);

        Assert.Equal(new BackchannelLogoutResult(0, 0, 1), await factory.RunJobAsync());

        var delivery = Assert.Single(await factory.DeliveriesAsync(sessionId));
        Assert.Equal((BackchannelLogoutStatus.Failed, 1), (delivery.Status, delivery.Attempts));
        Assert.StartsWith(expectedError, delivery.LastError, StringComparison.Ordinal);
        Assert.Contains("a loopback address; outside Development only clients listed in BackchannelLogout:AllowPrivateNetworks", delivery.LastError, StringComparison.Ordinal);
        Assert.DoesNotContain(factory.Receiver.Receipts, r => r.Client == BackchannelLogoutFactory.Portal);
        Assert.Contains(factory.Logs.Entries, e => e.EventId.Id == 3102 && e.Level == LogLevel.Warning
            && e.Message.Contains(BackchannelLogoutFactory.Portal, StringComparison.Ordinal));
        var failed = await factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>().SecurityEvents.AsNoTracking()
            .SingleAsync(e => e.Type == SecurityEventTypes.BackchannelLogoutFailed && e.SessionId == sessionId));
        Assert.Equal(BackchannelLogoutFactory.Portal, failed.ClientId);

        // Given up: later runs do not try again.
        Assert.Equal(new BackchannelLogoutResult(0, 0, 0), await factory.RunJobAsync());
    }

    [Fact]
    public async Task Delivery_ToNameResolvingToLoopbackForAllowedClient_IsDelivered()
    {
        var sessionId = await QueueAsync(BackchannelLogoutFactory.Notes, "localhost");

        Assert.Equal(new BackchannelLogoutResult(1, 0, 0), await factory.RunJobAsync());

        var delivery = Assert.Single(await factory.DeliveriesAsync(sessionId));
        Assert.Equal((BackchannelLogoutStatus.Delivered, null), (delivery.Status, delivery.LastError));
        Assert.Contains(factory.Receiver.Receipts, r => r.Client == BackchannelLogoutFactory.Notes);
    }

    /// <summary>A due notification for <paramref name="clientId"/> to the receiver, addressed by <paramref name="host"/>.</summary>
    private Task<string> QueueAsync(string clientId, string host) => factory.WithScopeAsync(async services =>
    {
        var database = services.GetRequiredService<ApplicationDbContext>();
        var now = DateTimeOffset.UtcNow;
        var sessionId = "session-" + Guid.NewGuid().ToString("N");
        database.BackchannelLogoutDeliveries.Add(new BackchannelLogoutDelivery
        {
            SessionId = sessionId, ClientId = clientId, Uri = $"http://{host}:{factory.Receiver.BaseAddress.Port}/logout/{clientId}",
            Subject = "user-1", Issuer = IdentityServerFactory.BaseAddress.AbsoluteUri, CreatedAt = now, NextAttemptAt = now,
            Status = BackchannelLogoutStatus.Pending,
        });
        await database.SaveChangesAsync();
        return sessionId;
    });
}
