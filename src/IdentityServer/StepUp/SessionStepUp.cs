using IdentityServer.Account;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Sessions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.StepUp;

/// <summary>
/// Raises the signed-in session's <c>amr</c> after the user proved a further factor while signed in
/// (a code at the step-up page, or the code that confirmed a new authenticator): the session row and
/// its cookie get the same methods, and the audit trail says so. <c>auth_time</c> stays the time of
/// the sign-in: a code alone is not a new sign-in, so max_age and the Security page's "fresh sign-in"
/// still ask for the password.
/// </summary>
internal sealed class SessionStepUp(SessionService sessions, SessionSignIn sessionSignIn, AuditLog audit)
{
    /// <returns>The session's methods now.</returns>
    public async Task<IReadOnlyList<string>> RaiseAsync(HttpContext context, ApplicationUser user, IEnumerable<string> proven, string? clientId)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(user);
        var sessionId = context.User.FindFirst(SessionService.SessionIdClaim)?.Value
            ?? throw new InvalidOperationException("A step-up needs a signed-in session.");
        var methods = Merge(context.User.FindAll(Claims.AuthenticationMethodReference).Select(static c => c.Value), proven);
        await sessions.SetAuthenticationMethodsAsync(sessionId, methods, context.RequestAborted);
        // Saved with the cookie's ticket, in the same write.
        audit.Add(SecurityEventTypes.StepUpCompleted, user.Id, user.UserName, sessionId, clientId, detail: string.Join(' ', methods));
        await sessionSignIn.RenewCookieAsync(context, user, methods);
        return methods;
    }

    /// <summary>The session's methods and the new ones, each once, in the order proven, with <c>mfa</c> last (as a sign-in writes them).</summary>
    internal static IReadOnlyList<string> Merge(IEnumerable<string> current, IEnumerable<string> proven)
    {
        var all = current.Concat(proven).Distinct(StringComparer.Ordinal).ToList();
        return [.. all.Where(static m => m != AuthenticationMethods.MultiFactor), .. all.Where(static m => m == AuthenticationMethods.MultiFactor)];
    }
}
