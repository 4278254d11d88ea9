using System.Globalization;
using System.Security.Claims;
using IdentityServer.Audit;
using IdentityServer.Authorization;
using IdentityServer.Data;
using IdentityServer.Observability;
using IdentityServer.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Account;

/// <summary>
/// The last step of a sign-in, once the user has proved who they are (a password today): starts a
/// session, or keeps this browser's session when its own user signs in again (prompt=login,
/// max_age), issues the session cookie, and records the outcome (metrics, audit). Every way of
/// signing in ends here, so that sessions, cookies and the audit trail are alike for all of them.
/// </summary>
internal sealed class SessionSignIn(
    UserManager<ApplicationUser> users,
    SignInManager<ApplicationUser> signIn,
    SessionService sessions,
    ReauthenticationMarkers reauthentication,
    AuditLog audit,
    IdentityServerMetrics metrics,
    TimeProvider clock)
{
    /// <param name="context">The sign-in request.</param>
    /// <param name="user">Who proved who they are.</param>
    /// <param name="methods">How: RFC 8176 <c>amr</c> values (<see cref="AuthenticationMethods"/>).</param>
    /// <param name="remember">
    /// "Remember me": a persistent cookie that expires with the session (idle timeout or absolute end,
    /// whichever is first, and follows it on every renewal); otherwise a cookie that ends with the browser.
    /// </param>
    /// <param name="returnUrl">Where the sign-in leads: a re-authentication marker in it is recorded for the session.</param>
    public async Task<SessionSignInResult> SignInAsync(HttpContext context, ApplicationUser user, IReadOnlyList<string> methods, bool remember, string? returnUrl)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(user);
        var current = context.User.FindFirst(SessionService.SessionIdClaim)?.Value;
        if (current is not null && users.GetUserId(context.User) is { } previousUser && previousUser != user.Id)
        {
            await SignOutOtherAccountAsync(context, current, previousUser);
            return SessionSignInResult.OtherAccountSignedOut;
        }
        if (await StartOrKeepSessionAsync(context, user, current, methods) is not { } session)
        {
            metrics.SignIn(SignInResultTag.Failed);
            await audit.RecordAsync(SecurityEventTypes.SignInFailed, user.Id, user.UserName, detail: "session_limit", cancellationToken: context.RequestAborted);
            return SessionSignInResult.SessionLimitReached;
        }

        metrics.SignIn(SignInResultTag.Succeeded);
        // Saved with the session's cookie ticket, in the same write.
        audit.Add(SecurityEventTypes.SignInSucceeded, user.Id, user.UserName, session.Id, detail: string.Join(' ', methods));
        // auth_time and amr travel in the cookie so the authorization endpoint can honour max_age.
        Claim[] claims =
        [
            new(Claims.AuthenticationTime, clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), ClaimValueTypes.Integer64),
            .. methods.Select(static method => new Claim(Claims.AuthenticationMethodReference, method)),
            new(SessionService.SessionIdClaim, session.Id),
        ];
        await signIn.SignInWithClaimsAsync(user, new AuthenticationProperties { IsPersistent = remember, ExpiresUtc = session.CookieExpiry }, claims);
        // Which prompt=login / max_age request this sign-in was made for (used up by that request).
        await reauthentication.RecordAsync(session.Id, returnUrl, context.RequestAborted);
        return SessionSignInResult.SignedIn;
    }

    /// <summary>
    /// Issues this browser's cookie again for the same session after the account's security stamp
    /// changed (the old cookie carries the old stamp, which Identity's periodic check would refuse),
    /// keeping when and how the user signed in and whether the cookie is remembered and when it expires.
    /// </summary>
    /// <param name="context">The request of the signed-in user.</param>
    /// <param name="user">The account as saved with its new stamp.</param>
    /// <param name="methods">New <c>amr</c> values for the cookie (a step-up); null keeps the cookie's.</param>
    public async Task RenewCookieAsync(HttpContext context, ApplicationUser user, IReadOnlyList<string>? methods = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(user);
        var kept = context.User.Claims
            .Where(c => c.Type is Claims.AuthenticationTime or SessionService.SessionIdClaim
                || (c.Type is Claims.AuthenticationMethodReference && methods is null))
            .Select(static c => new Claim(c.Type, c.Value, c.ValueType))
            .Concat((methods ?? []).Select(static method => new Claim(Claims.AuthenticationMethodReference, method)))
            .ToList();
        var properties = (await context.AuthenticateAsync(IdentityConstants.ApplicationScheme)).Properties;
        await signIn.SignInWithClaimsAsync(user, properties, kept);
    }

    /// <summary>
    /// Signing in again as the same user in the same browser keeps the session and the grants
    /// issued in it; any other sign-in starts a new one. Null when <c>Sessions:MaxPerUser</c> refuses it.
    /// </summary>
    private async Task<(string Id, DateTimeOffset CookieExpiry)?> StartOrKeepSessionAsync(
        HttpContext context, ApplicationUser user, string? current, IReadOnlyList<string> methods)
    {
        if (current is not null && await sessions.FindActiveAsync(current, context.RequestAborted) is { } kept)
        {
            // The cookie gets this sign-in's methods: the session row says the same (a passkey after a password raises the session's level).
            await sessions.SetAuthenticationMethodsAsync(kept.Id, methods, context.RequestAborted);
            return (kept.Id, sessions.ExpiryOf(kept));
        }
        if (await sessions.PrepareAsync(user, methods, context) is not { } started)
        {
            return null;
        }
        // Saved, with its ticket, when the cookie handler stores the new cookie (SessionTicketStore).
        context.Items[SessionTicketStore.StartingSessionItem] = started;
        return (started.Id, sessions.ExpiryOf(started));
    }

    /// <summary>
    /// Another account is signed in here. Its cookie refers to its session, which the cookie handler
    /// would renew rather than replace: end that session and sign this browser out. The user signs
    /// in again on a fresh (anonymous) form.
    /// </summary>
    private async Task SignOutOtherAccountAsync(HttpContext context, string sessionId, string userId)
    {
        await sessions.EndAsync(sessionId, SessionEndReasons.SignedOut, userId, context.RequestAborted);
        await signIn.SignOutAsync();
        context.User = new ClaimsPrincipal(new ClaimsIdentity());
    }
}
