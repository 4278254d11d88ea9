using IdentityServer.Audit;
using IdentityServer.BackchannelLogout;
using IdentityServer.Data;
using IdentityServer.Observability;
using IdentityServer.Sessions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using Quartz;

namespace IdentityServer.Pruning;

/// <summary>
/// Keeps the database small: ends sessions past their absolute lifetime or idle timeout (which
/// revokes their tokens and notifies their apps), then removes dead protocol state — tokens that
/// are expired, revoked, redeemed or otherwise invalid, authorizations no longer valid or without a
/// valid token, ended sessions and finished back-channel deliveries — once older than
/// <see cref="PruningOptions.MinimumAge"/>, and security events older than <c>Audit:Retention</c>.
/// One run at a time.
/// </summary>
[DisallowConcurrentExecution]
internal sealed partial class PruningJob(
    IOpenIddictTokenManager tokens,
    IOpenIddictAuthorizationManager authorizations,
    ApplicationDbContext database,
    SessionService sessions,
    IOptions<PruningOptions> options,
    IOptions<UserSessionOptions> sessionOptions,
    IOptions<AuditOptions> auditOptions,
    IdentityServerMetrics metrics,
    TimeProvider clock,
    ILogger<PruningJob> logger) : IJob
{
    public static readonly JobKey Key = new("prune-tokens-and-authorizations");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        // Which firing ran where: in a cluster each scheduled time appears in one node's log only.
        LogFiring(logger, context.ScheduledFireTimeUtc, context.Scheduler.SchedulerInstanceId);
        var result = await RunAsync(cancellationToken);
        context.Result = result;
    }

    public async Task<PruningResult> RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var expiredSessions = await EndExpiredSessionsAsync(now, cancellationToken);

        var threshold = now - options.Value.MinimumAge;
        var prunedTokens = await tokens.PruneAsync(threshold, cancellationToken);
        var prunedAuthorizations = await authorizations.PruneAsync(threshold, cancellationToken);

        // Their links to authorizations and clients go with them (cascade).
        var prunedSessions = await database.Sessions.Where(s => s.EndedAt != null && s.EndedAt < threshold).ExecuteDeleteAsync(cancellationToken);
        var prunedDeliveries = await database.BackchannelLogoutDeliveries
            .Where(d => d.Status != BackchannelLogoutStatus.Pending && d.CreatedAt < threshold)
            .ExecuteDeleteAsync(cancellationToken);
        var retention = now - auditOptions.Value.Retention;
        var prunedEvents = await database.SecurityEvents.Where(e => e.Timestamp < retention).ExecuteDeleteAsync(cancellationToken);

        metrics.Pruned("tokens", prunedTokens);
        metrics.Pruned("authorizations", prunedAuthorizations);
        metrics.Pruned("sessions", prunedSessions);
        metrics.Pruned("backchannel_deliveries", prunedDeliveries);
        metrics.Pruned("security_events", prunedEvents);
        LogPruned(logger, expiredSessions, prunedTokens, prunedAuthorizations, prunedSessions, prunedEvents, threshold);
        return new PruningResult(prunedTokens, prunedAuthorizations, expiredSessions, prunedSessions, prunedEvents);
    }

    private async Task<int> EndExpiredSessionsAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var idleSince = now - sessionOptions.Value.IdleTimeout;
        var expired = await database.Sessions.AsNoTracking()
            .Where(s => s.EndedAt == null && (s.ExpiresAt <= now || s.LastSeenAt <= idleSince))
            .Select(s => new { s.Id, s.ExpiresAt })
            .ToListAsync(cancellationToken);
        var ended = 0;
        foreach (var session in expired)
        {
            var reason = session.ExpiresAt <= now ? SessionEndReasons.Expired : SessionEndReasons.IdleTimeout;
            if (await sessions.EndAsync(session.Id, reason, SessionService.SystemActor, cancellationToken))
            {
                ended++;
            }
        }
        return ended;
    }

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information,
        Message = "Pruning run for the firing scheduled at {ScheduledFireTime:O} on scheduler node {Node}")]
    private static partial void LogFiring(ILogger logger, DateTimeOffset? scheduledFireTime, string node);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information,
        Message = "Pruning ended {ExpiredSessions} expired sessions and removed {Tokens} tokens, {Authorizations} authorizations and {Sessions} ended sessions created before {Threshold:O}, and {Events} security events past retention.")]
    private static partial void LogPruned(ILogger logger, int expiredSessions, long tokens, long authorizations, long sessions, long events, DateTimeOffset threshold);
}

/// <summary>What one pruning run did.</summary>
public sealed record PruningResult(long Tokens, long Authorizations, long ExpiredSessions = 0, long Sessions = 0, long SecurityEvents = 0);
