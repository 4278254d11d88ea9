using System.Collections.Immutable;
using System.Security.Claims;
using System.Security.Cryptography;
using IdentityServer.Audit;
using IdentityServer.BackchannelLogout;
using IdentityServer.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Sessions;

/// <summary>
/// Starts, checks and ends server-side sessions. Checks read a short per-node cache
/// (<see cref="UserSessionOptions.CacheDuration"/>), so the hot paths (each browser request, each
/// refresh) do not add a database round trip; ending a session revokes everything issued in it
/// in one transaction and clears this node's cache entry at once.
/// </summary>
public sealed class SessionService(
    ApplicationDbContext database,
    IMemoryCache cache,
    IOptions<UserSessionOptions> options,
    IOpenIddictAuthorizationManager authorizations,
    BackchannelLogoutOutbox backchannel,
    AuditLog audit,
    TimeProvider clock)
{
    /// <summary>The claim (cookie, ID token, access token) that carries the session id.</summary>
    public const string SessionIdClaim = "sid";

    /// <summary>Who ends sessions that end by themselves (expiry, idle timeout, reuse detection).</summary>
    public const string SystemActor = "system";

    private UserSessionOptions Options => options.Value;

    /// <summary>
    /// Creates (without saving) the session a sign-in is about to start, after applying
    /// <c>Sessions:MaxPerUser</c>. Null when the limit is reached and <c>WhenLimitReached</c> is <c>Deny</c>.
    /// The session is saved, with its ticket, when the cookie is issued (<see cref="SessionTicketStore"/>).
    /// </summary>
    public async Task<UserSession?> PrepareAsync(ApplicationUser user, IEnumerable<string> authenticationMethods, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(context);
        var cancellationToken = context.RequestAborted;
        var now = clock.GetUtcNow();

        if (Options.MaxPerUser > 0)
        {
            var active = await ActiveSessions(user.Id, now).OrderBy(s => s.CreatedAt).Select(s => s.Id).ToListAsync(cancellationToken);
            if (active.Count >= Options.MaxPerUser)
            {
                if (Options.WhenLimitReached == SessionLimitBehavior.Deny)
                {
                    return null;
                }
                foreach (var oldest in active.Take(active.Count - Options.MaxPerUser + 1))
                {
                    await EndAsync(oldest, SessionEndReasons.SessionLimit, SystemActor, cancellationToken);
                }
            }
        }

        var userAgent = AuditLog.Truncate(context.Request.Headers.UserAgent.ToString(), 512);
        var request = context.Request;
        return new UserSession
        {
            Id = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(24)),
            UserId = user.Id,
            UserName = user.UserName ?? user.Id,
            CreatedAt = now,
            LastSeenAt = now,
            // In whole seconds, as cookie expiry times are written: a renewed cookie's expiry comes
            // from two clock readings microseconds apart (see SessionsSetup), and must not round
            // up to the second after the session's end.
            ExpiresAt = WholeSeconds(now + Options.AbsoluteLifetime),
            IpAddress = context.Connection.RemoteIpAddress?.ToString(),
            UserAgent = userAgent,
            // Stored, so in English; the pages describe the User-Agent again in the reader's language.
            DeviceName = Localization.Texts.InEnglish(() => DeviceNames.Describe(userAgent)),
            AuthenticationMethods = string.Join(' ', authenticationMethods),
            Issuer = $"{request.Scheme}://{request.Host}{request.PathBase}/",
        };
    }

    /// <summary>Saves a prepared session with its cookie ticket, and records that it started.</summary>
    internal async Task SaveNewAsync(UserSession session, byte[] ticket, CancellationToken cancellationToken)
    {
        session.Ticket = ticket;
        database.Sessions.Add(session);
        audit.Add(SecurityEventTypes.SessionStarted, session.UserId, session.UserName, session.Id, detail: session.AuthenticationMethods);
        await database.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Replaces the cookie ticket of a session (cookie renewal, re-authentication), with any pending events.</summary>
    internal async Task UpdateTicketAsync(string sessionId, byte[] ticket, CancellationToken cancellationToken)
    {
        if (await database.Sessions.FirstOrDefaultAsync(s => s.Id == sessionId, cancellationToken) is { } session)
        {
            session.Ticket = ticket;
        }
        await database.SaveChangesAsync(cancellationToken);
        cache.Remove(CacheKey(sessionId));
    }

    /// <summary>
    /// Records how the user of an active session has proved who they are since it started (a step-up
    /// with a second factor): the session row's <c>amr</c>. The cookie's claims are renewed by the caller.
    /// </summary>
    internal async Task SetAuthenticationMethodsAsync(string sessionId, IEnumerable<string> methods, CancellationToken cancellationToken)
    {
        var value = string.Join(' ', methods);
        await database.Sessions.Where(s => s.Id == sessionId && s.EndedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.AuthenticationMethods, value), cancellationToken);
    }

    /// <summary>
    /// Adds a claim to the cookie ticket stored with an active session (see <see cref="ChangeTicketAsync"/>).
    /// </summary>
    internal Task<bool> AddTicketClaimAsync(string sessionId, string type, string value, CancellationToken cancellationToken) =>
        ChangeTicketAsync(sessionId, ticket =>
        {
            ticket.Principal.Identities.First().AddClaim(new Claim(type, value));
            return true;
        }, cancellationToken);

    /// <summary>
    /// Removes a claim from the cookie ticket stored with an active session: of concurrent callers
    /// on any node, exactly one gets true. This makes a claim in the cookie usable once (see
    /// <c>ReauthenticationMarkers</c>).
    /// </summary>
    internal Task<bool> RemoveTicketClaimAsync(string sessionId, string type, string value, CancellationToken cancellationToken) =>
        ChangeTicketAsync(sessionId, ticket =>
            ticket.Principal.Claims.FirstOrDefault(c => c.Type == type && c.Value == value) is { Subject: { } identity } claim
            && identity.TryRemoveClaim(claim), cancellationToken);

    /// <summary>
    /// Changes the cookie ticket stored with an active session, as a conditional update on the
    /// ticket read from the database, so that a change never overwrites another made meanwhile on
    /// any node. False when the session is not active, <paramref name="change"/> declines (false),
    /// or the ticket kept changing under it.
    /// </summary>
    private async Task<bool> ChangeTicketAsync(string sessionId, Func<AuthenticationTicket, bool> change, CancellationToken cancellationToken)
    {
        // A retry only when the ticket changed for another reason (a cookie renewal) between read and update.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var stored = await database.Sessions.AsNoTracking()
                .Where(s => s.Id == sessionId && s.EndedAt == null)
                .Select(s => s.Ticket)
                .FirstOrDefaultAsync(cancellationToken);
            if (stored is null || TicketSerializer.Default.Deserialize(stored) is not { } ticket || !change(ticket))
            {
                return false;
            }
            var replacement = TicketSerializer.Default.Serialize(ticket);
            var updated = await database.Sessions.Where(s => s.Id == sessionId && s.EndedAt == null && s.Ticket == stored)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.Ticket, replacement), cancellationToken);
            cache.Remove(CacheKey(sessionId));
            if (updated == 1)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The session if it is active: not ended, not past its absolute lifetime or idle timeout. A
    /// session found past either is ended here, with that reason. Read through the short cache.
    /// </summary>
    public async Task<SessionState?> FindActiveAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(sessionId) || sessionId.Length > 64 || cache.TryGetValue(EndedKey(sessionId), out _))
        {
            return null;
        }
        var key = CacheKey(sessionId);
        if (!cache.TryGetValue(key, out SessionState? state))
        {
            state = await CompiledQueries.SessionState(database, sessionId, cancellationToken);
            if (Options.CacheDuration > TimeSpan.Zero)
            {
                cache.Set(key, state, Options.CacheDuration);
            }
        }
        if (state is null || state.EndedAt is not null)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        if (now >= state.ExpiresAt || now >= state.LastSeenAt + Options.IdleTimeout)
        {
            await EndAsync(sessionId, now >= state.ExpiresAt ? SessionEndReasons.Expired : SessionEndReasons.IdleTimeout, SystemActor, cancellationToken);
            return null;
        }
        return state;
    }

    /// <summary>Records activity (at most once per <c>Sessions:ActivityUpdateInterval</c>), which pushes the idle timeout back.</summary>
    public async Task<SessionState> TouchAsync(SessionState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        var now = clock.GetUtcNow();
        if (now - state.LastSeenAt < Options.ActivityUpdateInterval)
        {
            return state;
        }
        var updated = await database.Sessions.Where(s => s.Id == state.Id && s.EndedAt == null && s.LastSeenAt < now)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.LastSeenAt, now), cancellationToken);
        var touched = state with { LastSeenAt = now };
        // Nothing updated: ended meanwhile (or touched by a concurrent request): read it again next time.
        if (updated == 1 && Options.CacheDuration > TimeSpan.Zero)
        {
            cache.Set(CacheKey(state.Id), touched, Options.CacheDuration);
        }
        else
        {
            cache.Remove(CacheKey(state.Id));
        }
        return touched;
    }

    /// <summary>When a browser cookie of this session must expire: its absolute end or idle timeout, whichever is first.</summary>
    public DateTimeOffset ExpiryOf(SessionState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var idleEnd = state.LastSeenAt + Options.IdleTimeout;
        return idleEnd < state.ExpiresAt ? idleEnd : state.ExpiresAt;
    }

    /// <summary><see cref="ExpiryOf(SessionState)"/> of a session a sign-in is starting.</summary>
    internal DateTimeOffset ExpiryOf(UserSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return ExpiryOf(new SessionState(session.Id, session.UserId, session.ExpiresAt, session.LastSeenAt, session.EndedAt, null));
    }

    /// <summary>
    /// Creates the authorization (grant) for a code issued in a session, linked to the session, and
    /// records the client as a participant of the session (a second write only the first time).
    /// </summary>
    public async Task<string> CreateAuthorizationAsync(
        string sessionId, ClaimsPrincipal principal, string subject, string applicationId, string clientId,
        ImmutableArray<string> scopes, CancellationToken cancellationToken)
    {
        var descriptor = new OpenIddictAuthorizationDescriptor
        {
            ApplicationId = applicationId,
            CreationDate = clock.GetUtcNow(),
            Principal = principal,
            Status = Statuses.Valid,
            Subject = subject,
            Type = AuthorizationTypes.AdHoc,
        };
        descriptor.Scopes.UnionWith(scopes);
        var authorization = new OpenIddictEntityFrameworkCoreAuthorization();
        await authorizations.PopulateAsync(authorization, descriptor, cancellationToken);

        database.SessionAuthorizations.Add(new SessionAuthorization { SessionId = sessionId, AuthorizationId = authorization.Id! });
        // The EF Core store saves the whole unit of work: the link goes with the authorization.
        await authorizations.CreateAsync(authorization, cancellationToken);

        if (!await database.SessionClients.AnyAsync(c => c.SessionId == sessionId && c.ClientId == clientId, cancellationToken))
        {
            var participant = new SessionClient { SessionId = sessionId, ClientId = clientId, FirstUsedAt = clock.GetUtcNow() };
            database.SessionClients.Add(participant);
            try
            {
                await database.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                // A simultaneous request (another tab) recorded this client first: nothing is lost.
                database.Entry(participant).State = EntityState.Detached;
            }
        }
        return authorization.Id!;
    }

    /// <summary>
    /// Ends a session: marks it ended with the reason and who ended it, revokes every authorization
    /// and token issued in it, queues back-channel logout notifications and records the event, all
    /// in one transaction. Returns false when it was already ended or does not exist.
    /// </summary>
    public async Task<bool> EndAsync(string sessionId, string reason, string actor, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var ended = await database.WriteInTransactionAsync(async token =>
        {
            var session = await database.Sessions.Include(s => s.Clients).FirstOrDefaultAsync(s => s.Id == sessionId, token);
            if (session is null || session.EndedAt is not null)
            {
                return null;
            }
            session.EndedAt = now;
            session.EndReason = reason;
            session.EndedBy = actor;

            var grants = database.SessionAuthorizations.Where(l => l.SessionId == sessionId).Select(l => l.AuthorizationId);
            // A new concurrency token makes a refresh that read the token before this update lose
            // its redemption instead of issuing new tokens.
            var stamp = Guid.NewGuid().ToString();
            await database.Set<OpenIddictEntityFrameworkCoreToken>()
                .Where(t => t.Authorization != null && grants.Contains(t.Authorization.Id!)
                    && (t.Status == Statuses.Valid || t.Status == Statuses.Inactive))
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.Status, Statuses.Revoked).SetProperty(t => t.ConcurrencyToken, stamp), token);
            await database.Set<OpenIddictEntityFrameworkCoreAuthorization>()
                .Where(a => grants.Contains(a.Id!) && a.Status == Statuses.Valid)
                .ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, Statuses.Revoked).SetProperty(a => a.ConcurrencyToken, stamp), token);

            await backchannel.AddAsync(session, session.Clients.Select(c => c.ClientId), token);
            audit.Add(SecurityEventTypes.SessionEnded, session.UserId, session.UserName, session.Id, actor: actor, detail: reason);
            await database.SaveChangesAsync(token);
            return session;
        }, cancellationToken);

        // A marker no concurrent reader can overwrite with what it read before the commit.
        cache.Set(EndedKey(sessionId), true, Options.CacheDuration + Options.CacheDuration + TimeSpan.FromSeconds(1));
        cache.Remove(CacheKey(sessionId));
        if (ended is null)
        {
            return false;
        }
        await backchannel.SignalAsync(cancellationToken);
        return true;
    }

    /// <summary>Ends every active session of a user, optionally but one; returns how many ended.</summary>
    public async Task<int> EndAllAsync(string userId, string reason, string actor, string? exceptSessionId, CancellationToken cancellationToken)
    {
        var ids = await database.Sessions.Where(s => s.UserId == userId && s.EndedAt == null).Select(s => s.Id).ToListAsync(cancellationToken);
        var count = 0;
        foreach (var id in ids.Where(id => id != exceptSessionId))
        {
            if (await EndAsync(id, reason, actor, cancellationToken))
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>The session an authorization (grant) was issued in, if any.</summary>
    public Task<string?> FindByAuthorizationAsync(string authorizationId, CancellationToken cancellationToken) =>
        database.SessionAuthorizations.Where(l => l.AuthorizationId == authorizationId).Select(l => l.SessionId).FirstOrDefaultAsync(cancellationToken);

    /// <summary>A user's active sessions, newest activity first, with the client ids that used each.</summary>
    public async Task<IReadOnlyList<UserSession>> ListActiveAsync(string userId, CancellationToken cancellationToken) =>
        await ActiveSessions(userId, clock.GetUtcNow()).AsNoTracking().Include(s => s.Clients)
            .OrderByDescending(s => s.LastSeenAt).ToListAsync(cancellationToken);

    private IQueryable<UserSession> ActiveSessions(string userId, DateTimeOffset now)
    {
        var idleSince = now - Options.IdleTimeout;
        return database.Sessions.Where(s => s.UserId == userId && s.EndedAt == null && s.ExpiresAt > now && s.LastSeenAt > idleSince);
    }

    private static DateTimeOffset WholeSeconds(DateTimeOffset time) => time.AddTicks(-(time.Ticks % TimeSpan.TicksPerSecond));

    private static string CacheKey(string sessionId) => "idp:session:" + sessionId;

    private static string EndedKey(string sessionId) => "idp:session-ended:" + sessionId;
}

/// <summary>What a node remembers about a session between checks.</summary>
public sealed record SessionState(string Id, string UserId, DateTimeOffset ExpiresAt, DateTimeOffset LastSeenAt, DateTimeOffset? EndedAt, byte[]? Ticket);
