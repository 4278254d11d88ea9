using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace IdentityServer.Sessions;

/// <summary>
/// Keeps the IdP cookie's authentication ticket in the session row, so the cookie carries only the
/// session id (inside ASP.NET Core's data-protected cookie). Every request that reads the cookie
/// checks the session through <see cref="SessionService.FindActiveAsync"/>: a browser whose session
/// was ended is anonymous on its next request.
/// </summary>
internal sealed class SessionTicketStore : ITicketStore
{
    /// <summary>HttpContext item: the session a sign-in is starting (prepared, not yet saved).</summary>
    internal const string StartingSessionItem = "idp:session:starting";

    /// <summary>HttpContext item: the id of the session a re-authentication keeps (same user, same browser).</summary>
    internal const string KeptSessionItem = "idp:session:kept";

    public async Task<string> StoreAsync(AuthenticationTicket ticket, HttpContext httpContext, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        ArgumentNullException.ThrowIfNull(httpContext);
        var sessions = httpContext.RequestServices.GetRequiredService<SessionService>();
        var sessionId = ticket.Principal.FindFirst(SessionService.SessionIdClaim)?.Value;
        var serialized = TicketSerializer.Default.Serialize(ticket);

        if (httpContext.Items[StartingSessionItem] is UserSession starting && starting.Id == sessionId)
        {
            await sessions.SaveNewAsync(starting, serialized, cancellationToken);
            return starting.Id;
        }
        if (httpContext.Items[KeptSessionItem] is string kept && kept == sessionId)
        {
            await sessions.UpdateTicketAsync(kept, serialized, cancellationToken);
            return kept;
        }
        throw new InvalidOperationException("A cookie sign-in must start or keep a session first (see SessionService.PrepareAsync).");
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
        // A sliding renewal writes back the ticket as this request read it. A re-authentication record
        // in it may have been used up meanwhile (by this request or another, see
        // ReauthenticationMarkers): it never comes back this way. Only a sign-in that keeps the
        // session (which also arrives here) writes a record, the one it has just made.
        var signingIn = httpContext.Items[KeptSessionItem] as string == key;
        foreach (var identity in signingIn ? [] : ticket.Principal.Identities)
        {
            foreach (var claim in identity.FindAll(Authorization.ReauthenticationMarkers.SatisfiedClaim).ToList())
            {
                identity.RemoveClaim(claim);
            }
        }
        await httpContext.RequestServices.GetRequiredService<SessionService>()
            .UpdateTicketAsync(key, TicketSerializer.Default.Serialize(ticket), cancellationToken);
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
            // never earlier because the cookie was issued long ago.
            ticket.Properties.ExpiresUtc = sessions.ExpiryOf(state);
        }
        return ticket;
    }

    public async Task RemoveAsync(string key, HttpContext httpContext, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (httpContext.Items[KeptSessionItem] as string == key)
        {
            return;
        }
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
}
