using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Sessions;
using IdentityServer.TwoFactor;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;

namespace IdentityServer.Admin;

/// <summary>
/// What an administrator can do to accounts and sessions, shared by the admin API and the admin
/// pages so both end sessions, lock and delete the same way and leave the same audit trail.
/// </summary>
internal sealed class UserAdministration(
    ApplicationDbContext database,
    UserManager<ApplicationUser> users,
    SessionService sessions,
    AuditLog audit,
    IOpenIddictAuthorizationManager authorizations,
    IOpenIddictTokenManager tokens,
    IOptions<UserSessionOptions> sessionOptions,
    SecondFactors secondFactors,
    TimeProvider clock)
{
    /// <summary>Ended sessions listed with the active ones, newest first: enough for a review, bounded for the page.</summary>
    private const int EndedSessionLimit = 50;

    public async Task<UserPage> SearchAsync(string? query, int page, int pageSize, CancellationToken cancellationToken)
    {
        var accounts = users.Users;
        if (!string.IsNullOrWhiteSpace(query))
        {
            // The normalized columns are indexed and already upper-cased by Identity's normalizer.
            var normalized = users.NormalizeName(query.Trim());
            accounts = accounts.Where(u => u.NormalizedUserName!.Contains(normalized) || u.NormalizedEmail!.Contains(normalized));
        }
        var total = await accounts.CountAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var idleSince = now - sessionOptions.Value.IdleTimeout;
        var rows = await accounts.OrderBy(u => u.NormalizedUserName).ThenBy(u => u.Id)
            .Skip((page - 1) * pageSize).Take(pageSize)
            .Select(u => new
            {
                u.Id,
                u.UserName,
                u.Email,
                u.LockoutEnd,
                Active = database.Sessions.Count(s => s.UserId == u.Id && s.EndedAt == null && s.ExpiresAt > now && s.LastSeenAt > idleSince),
            })
            .ToListAsync(cancellationToken);
        // LockoutEnd is compared here, not in SQL: SQLite stores Identity's DateTimeOffset as text.
        var items = rows.Select(r => new UserSummary(r.Id, r.UserName, r.Email, r.LockoutEnd > now, r.LockoutEnd, r.Active)).ToList();
        return new UserPage(items, page, pageSize, total);
    }

    public async Task<UserDetails?> FindAsync(string userId, CancellationToken cancellationToken)
    {
        if (await FindUserAsync(userId, cancellationToken) is not { } user)
        {
            return null;
        }
        var active = await ActiveSessions(user.Id).CountAsync(cancellationToken);
        var (authenticator, recoveryCodes) = await secondFactors.StatusAsync(user);
        return new UserDetails(user.Id, user.UserName, user.Email, user.EmailConfirmed, user.LockoutEnd > clock.GetUtcNow(), user.LockoutEnd,
            user.AccessFailedCount, [.. await users.GetRolesAsync(user)], active, authenticator, recoveryCodes, (await users.GetPasskeysAsync(user)).Count);
    }

    /// <summary>The user's sessions (active first, then up to 50 ended ones when asked); null when the user does not exist.</summary>
    public async Task<IReadOnlyList<SessionView>?> ListSessionsAsync(string userId, bool includeEnded, CancellationToken cancellationToken)
    {
        if (await FindUserAsync(userId, cancellationToken) is null)
        {
            return null;
        }
        var now = clock.GetUtcNow();
        var idleTimeout = sessionOptions.Value.IdleTimeout;
        var active = await sessions.ListActiveAsync(userId, cancellationToken);
        var result = active.Select(s => ToView(s, active: true)).ToList();
        if (includeEnded)
        {
            var activeIds = active.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
            var ended = await database.Sessions.AsNoTracking().Include(s => s.Clients)
                .Where(s => s.UserId == userId)
                .OrderByDescending(s => s.CreatedAt)
                .Take(EndedSessionLimit + activeIds.Count)
                .ToListAsync(cancellationToken);
            result.AddRange(ended.Where(s => !activeIds.Contains(s.Id)).Take(EndedSessionLimit).Select(s => ToView(s, active: false)));
        }
        return result;

        // A session past its lifetime or idle timeout that nobody has touched yet is not active,
        // even though its row has no end recorded.
        static SessionView ToView(UserSession s, bool active) => new(
            s.Id, active, s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.IpAddress, s.UserAgent, s.DeviceName, s.AuthenticationMethods,
            [.. s.Clients.Select(c => c.ClientId).Order(StringComparer.Ordinal)], s.EndedAt, s.EndReason, s.EndedBy);
    }

    public async Task<EndSessionOutcome> EndSessionAsync(string userId, string sessionId, string actor, CancellationToken cancellationToken)
    {
        var session = await database.Sessions.AsNoTracking()
            .Where(s => s.Id == sessionId && s.UserId == userId)
            .Select(s => new { s.EndedAt })
            .FirstOrDefaultAsync(cancellationToken);
        if (session is null)
        {
            return EndSessionOutcome.NotFound;
        }
        if (session.EndedAt is not null)
        {
            return EndSessionOutcome.AlreadyEnded;
        }
        return await sessions.EndAsync(sessionId, SessionEndReasons.EndedByAdmin, actor, cancellationToken)
            ? EndSessionOutcome.Ended
            : EndSessionOutcome.AlreadyEnded;
    }

    /// <summary>Ends every active session of the user; null when the user does not exist.</summary>
    public async Task<EndedSessions?> EndAllSessionsAsync(string userId, string actor, CancellationToken cancellationToken)
    {
        if (await FindUserAsync(userId, cancellationToken) is null)
        {
            return null;
        }
        return new EndedSessions(await sessions.EndAllAsync(userId, SessionEndReasons.EndedByAdmin, actor, null, cancellationToken));
    }

    /// <summary>
    /// Locks the account until unlocked (lockout end = max) and ends its sessions, which revokes
    /// their tokens; the token endpoint also refuses refreshes of a locked account. Null when the user does not exist.
    /// </summary>
    public async Task<EndedSessions?> LockAsync(string userId, string actor, CancellationToken cancellationToken)
    {
        if (await FindUserAsync(userId, cancellationToken) is not { } user)
        {
            return null;
        }
        // Lockout must be enabled for Identity to honour the end date.
        Check(await users.SetLockoutEnabledAsync(user, true));
        Check(await users.SetLockoutEndDateAsync(user, DateTimeOffset.MaxValue));
        var ended = await sessions.EndAllAsync(user.Id, SessionEndReasons.UserLocked, actor, null, cancellationToken);
        await audit.RecordAsync(SecurityEventTypes.UserLocked, user.Id, user.UserName, actor: actor, cancellationToken: cancellationToken);
        return new EndedSessions(ended);
    }

    /// <summary>Lifts a lockout (administrative or after failed sign-ins); false when the user does not exist.</summary>
    public async Task<bool> UnlockAsync(string userId, string actor, CancellationToken cancellationToken)
    {
        if (await FindUserAsync(userId, cancellationToken) is not { } user)
        {
            return false;
        }
        Check(await users.SetLockoutEndDateAsync(user, null));
        Check(await users.ResetAccessFailedCountAsync(user));
        await audit.RecordAsync(SecurityEventTypes.UserUnlocked, user.Id, user.UserName, actor: actor, cancellationToken: cancellationToken);
        return true;
    }

    /// <summary>
    /// Resets the account's second factors, for a user who lost the phone and the recovery codes:
    /// turns the authenticator off, replaces its key, deletes the recovery codes and ends the
    /// account's sessions (the security stamp changed). The user signs in with the password alone
    /// and may set up an authenticator again. Null when the user does not exist.
    /// </summary>
    public async Task<EndedSessions?> ResetSecondFactorsAsync(string userId, string actor, CancellationToken cancellationToken)
    {
        if (await FindUserAsync(userId, cancellationToken) is not { } user)
        {
            return null;
        }
        var (_, ended) = await secondFactors.DisableAsync(user.Id, SecurityEventTypes.SecondFactorsReset, actor, null, cancellationToken);
        return new EndedSessions(ended);
    }

    /// <summary>
    /// Ends the sessions, revokes every grant and token issued to the account (also those not
    /// tied to a session), deletes it and records who did. Sessions and events stay for the record.
    /// </summary>
    public async Task<DeletedUser?> DeleteAsync(string userId, string actor, CancellationToken cancellationToken)
    {
        if (await FindUserAsync(userId, cancellationToken) is not { } user)
        {
            return null;
        }
        var ended = await sessions.EndAllAsync(user.Id, SessionEndReasons.UserDeleted, actor, null, cancellationToken);
        var revokedAuthorizations = await authorizations.RevokeBySubjectAsync(user.Id, cancellationToken);
        var revokedTokens = await tokens.RevokeBySubjectAsync(user.Id, cancellationToken);
        Check(await users.DeleteAsync(user));
        await audit.RecordAsync(SecurityEventTypes.UserDeleted, user.Id, user.UserName, actor: actor, cancellationToken: cancellationToken);
        return new DeletedUser(ended, revokedAuthorizations, revokedTokens);
    }

    /// <summary>
    /// Security events, newest first, after skipping the <paramref name="skip"/> newest (a page of the
    /// admin pages); <paramref name="from"/> inclusive, <paramref name="to"/> exclusive.
    /// </summary>
    public async Task<IReadOnlyList<SecurityEventView>> QueryEventsAsync(
        string? userId, string? type, DateTimeOffset? from, DateTimeOffset? to, int limit, CancellationToken cancellationToken, int skip = 0)
    {
        var events = database.SecurityEvents.AsNoTracking();
        if (!string.IsNullOrEmpty(userId))
        {
            events = events.Where(e => e.UserId == userId);
        }
        if (!string.IsNullOrEmpty(type))
        {
            events = events.Where(e => e.Type == type);
        }
        // Stored values are UTC; the binary converter compares clock ticks, so compare in UTC too.
        from = from?.ToUniversalTime();
        to = to?.ToUniversalTime();
        if (from is { } start)
        {
            events = events.Where(e => e.Timestamp >= start);
        }
        if (to is { } end)
        {
            events = events.Where(e => e.Timestamp < end);
        }
        return await events.OrderByDescending(e => e.Timestamp).ThenByDescending(e => e.Id).Skip(skip).Take(limit)
            .Select(e => new SecurityEventView(e.Id, e.Timestamp, e.Type, e.UserId, e.UserName, e.SessionId, e.ClientId,
                e.IpAddress, e.UserAgent, e.Actor, e.Detail))
            .ToListAsync(cancellationToken);
    }

    /// <summary>Active sessions now, and sign-ins per bucket over [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public async Task<SessionStatistics> StatisticsAsync(DateTimeOffset from, DateTimeOffset to, StatisticsInterval interval, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var idleSince = now - sessionOptions.Value.IdleTimeout;
        var active = await database.Sessions.CountAsync(s => s.EndedAt == null && s.ExpiresAt > now && s.LastSeenAt > idleSince, cancellationToken);

        // Only the timestamps are read and counted here: the converted timestamp column cannot be
        // grouped by day in SQL, and a window is bounded by StatisticsInterval.MaxBuckets.
        var signIns = await database.SecurityEvents.AsNoTracking()
            .Where(e => (e.Type == SecurityEventTypes.SignInSucceeded || e.Type == SecurityEventTypes.SignInFailed)
                && e.Timestamp >= from && e.Timestamp < to)
            .Select(e => new { e.Timestamp, e.Type })
            .ToListAsync(cancellationToken);

        var buckets = new List<SignInBucket>();
        for (var start = from; start < to; start += interval.Length)
        {
            var end = start + interval.Length;
            var inBucket = signIns.Where(e => e.Timestamp >= start && e.Timestamp < end).ToList();
            buckets.Add(new SignInBucket(start,
                inBucket.Count(e => e.Type == SecurityEventTypes.SignInSucceeded),
                inBucket.Count(e => e.Type == SecurityEventTypes.SignInFailed)));
        }
        return new SessionStatistics(active, from, to, interval.Name,
            buckets.Sum(b => b.Succeeded), buckets.Sum(b => b.Failed), buckets);
    }

    private IQueryable<UserSession> ActiveSessions(string userId)
    {
        var now = clock.GetUtcNow();
        var idleSince = now - sessionOptions.Value.IdleTimeout;
        return database.Sessions.Where(s => s.UserId == userId && s.EndedAt == null && s.ExpiresAt > now && s.LastSeenAt > idleSince);
    }

    private Task<ApplicationUser?> FindUserAsync(string userId, CancellationToken cancellationToken) =>
        string.IsNullOrEmpty(userId) || userId.Length > 450 ? Task.FromResult<ApplicationUser?>(null) : users.FindByIdFastAsync(userId, cancellationToken);

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException("The account could not be updated: " + string.Join(" ", result.Errors.Select(e => e.Code)));
        }
    }
}
