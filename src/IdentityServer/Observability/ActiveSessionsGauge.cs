using IdentityServer.Data;
using IdentityServer.Sessions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IdentityServer.Observability;

/// <summary>
/// The value behind <c>idp.sessions.active</c>. An exporter observes gauges on its own thread
/// and must not wait on the database, so an observation returns the last count and, when that is
/// older than <see cref="ObservabilityOptions.ActiveSessionsRefresh"/>, starts one background
/// count for the next observation. Nothing is counted while nobody observes (no exporter).
/// </summary>
public sealed partial class ActiveSessionsGauge(
    IServiceScopeFactory scopes,
    IOptions<UserSessionOptions> sessionOptions,
    IOptions<ObservabilityOptions> options,
    TimeProvider clock,
    ILogger<ActiveSessionsGauge> logger)
{
    private readonly Lock gate = new();
    private long? count;
    private DateTimeOffset countedAt = DateTimeOffset.MinValue;
    private Task? refreshing;

    /// <summary>The gauge callback: the cached count (none before the first count finished).</summary>
    internal IEnumerable<System.Diagnostics.Metrics.Measurement<long>> Observe()
    {
        lock (gate)
        {
            if (refreshing is not { IsCompleted: false } && clock.GetUtcNow() - countedAt >= options.Value.ActiveSessionsRefresh)
            {
                refreshing = Task.Run(() => RefreshAsync(CancellationToken.None));
            }
            return count is { } value ? [new(value)] : [];
        }
    }

    /// <summary>Counts active sessions now (not ended, within their absolute lifetime and idle timeout).</summary>
    public async Task<long> RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var database = scope.ServiceProvider.GetRequiredService<ApplicationDbContext>();
            var now = clock.GetUtcNow();
            var idleSince = now - sessionOptions.Value.IdleTimeout;
            var active = await database.Sessions.AsNoTracking()
                .LongCountAsync(s => s.EndedAt == null && s.ExpiresAt > now && s.LastSeenAt > idleSince, cancellationToken);
            lock (gate)
            {
                count = active;
                countedAt = now;
            }
            return active;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // A metric must never take the node down; the last count stays until the database answers.
            LogCountFailed(logger, exception);
            lock (gate)
            {
                countedAt = clock.GetUtcNow();
            }
            return -1;
        }
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "Counting active sessions for the idp.sessions.active metric failed.")]
    private static partial void LogCountFailed(ILogger logger, Exception exception);
}
