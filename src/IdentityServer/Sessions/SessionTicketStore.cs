using IdentityServer.Authorization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace IdentityServer.Sessions;

/// <summary>
/// Keeps the IdP cookie's authentication ticket in the session row, so the cookie carries only the
/// session id (inside ASP.NET Core's data-protected cookie). Every request that reads the cookie
/// checks the session through <see cref="SessionService.FindActiveAsync"/>: a browser whose session
/// was ended is anonymous on its next request.
/// </summary>
/// <remarks>
/// The cookie handler stores a ticket (<see cref="StoreAsync(AuthenticationTicket, HttpContext, CancellationToken)"/>)
/// only for a request whose cookie names no active session, which is a sign-in starting one. A
/// request with a session writes through <see cref="RenewAsync(string, AuthenticationTicket, HttpContext, CancellationToken)"/>,
/// whether it renews the cookie or signs in again keeping the session (re-authentication, password
/// change). No cookie write carries a re-authentication record: see <see cref="Serialize"/>.
/// </remarks>
internal sealed class SessionTicketStore : ITicketStore
{
    /// <summary>HttpContext item: the session a sign-in is starting (prepared, not yet saved).</summary>
    internal const string StartingSessionItem = "idp:session:starting";

    public async Task<string> StoreAsync(AuthenticationTicket ticket, HttpContext httpContext, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        ArgumentNullException.ThrowIfNull(httpContext);
        if (httpContext.Items[StartingSessionItem] is not UserSession starting
            || starting.Id != ticket.Principal.FindFirst(SessionService.SessionIdClaim)?.Value)
        {
            throw new InvalidOperationException("A cookie sign-in must start a session first (see SessionService.PrepareAsync).");
        }
        await httpContext.RequestServices.GetRequiredService<SessionService>().SaveNewAsync(starting, Serialize(ticket), cancellationToken);
        return starting.Id;
    }

    public async Task RenewAsync(string key, AuthenticationTicket ticket, HttpContext httpContext, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        ArgumentNullException.ThrowIfNull(httpContext);
        // The cookie keeps referring to `key`: a ticket of another session must never be written there.
        if (ticket.Principal.FindFirst(SessionService.SessionIdClaim)?.Value != key)
        {
            throw new InvalidOperationException("A cookie may only be renewed with a ticket of its own session.");
        }
        await httpContext.RequestServices.GetRequiredService<SessionService>().UpdateTicketAsync(key, Serialize(ticket), cancellationToken);
    }

    public async Task<AuthenticationTicket?> RetrieveAsync(string key, HttpContext httpContext, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var sessions = httpContext.RequestServices.GetRequiredService<SessionService>();
        if (await sessions.FindActiveAsync(key, cancellationToken) is not { Ticket: not null } state)
        {
            return null;
        }
        state = await sessions.TouchAsync(state, cancellationToken);
        var ticket = TicketSerializer.Default.Deserialize(state.Ticket!);
        if (ticket is not null)
        {
            // The session decides when the cookie expires: at its absolute end or idle timeout,
            // never earlier because the cookie was issued long ago. A renewal (see SessionsSetup)
            // re-issues the cookie with this expiry, so a persistent cookie follows the session and
            // never outlives its absolute end.
            ticket.Properties.ExpiresUtc = sessions.ExpiryOf(state);
        }
        return ticket;
    }

    /// <summary>Sign-out, or a cookie the handler found expired: the session ends.</summary>
    public async Task RemoveAsync(string key, HttpContext httpContext, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var sessions = httpContext.RequestServices.GetRequiredService<SessionService>();
        var actor = (await sessions.FindActiveAsync(key, cancellationToken))?.UserId ?? SessionService.SystemActor;
        await sessions.EndAsync(key, SessionEndReasons.SignedOut, actor, cancellationToken);
    }

    // The cookie handler always calls the overloads above, which need the request's services.
    public Task<string> StoreAsync(AuthenticationTicket ticket) => throw new NotSupportedException(NeedsContext);

    public Task RenewAsync(string key, AuthenticationTicket ticket) => throw new NotSupportedException(NeedsContext);

    public Task<AuthenticationTicket?> RetrieveAsync(string key) => throw new NotSupportedException(NeedsContext);

    public Task RemoveAsync(string key) => throw new NotSupportedException(NeedsContext);

    private const string NeedsContext = "The session ticket store is used with the current HttpContext.";

    /// <summary>
    /// The ticket as stored, without any re-authentication record. A renewal writes back the ticket
    /// its request read, and a record in it may have been used up meanwhile (by this request or
    /// another, see <see cref="ReauthenticationMarkers"/>): it must never come back that way. So
    /// records enter and leave the stored ticket only through the conditional updates of
    /// <see cref="ReauthenticationMarkers.RecordAsync"/> and <see cref="ReauthenticationMarkers.UseAsync"/>,
    /// and no cookie write has to say whether it is a sign-in.
    /// </summary>
    private static byte[] Serialize(AuthenticationTicket ticket)
    {
        foreach (var identity in ticket.Principal.Identities)
        {
            foreach (var claim in identity.FindAll(ReauthenticationMarkers.SatisfiedClaim).ToList())
            {
                identity.RemoveClaim(claim);
            }
        }
        return TicketSerializer.Default.Serialize(ticket);
    }
}
