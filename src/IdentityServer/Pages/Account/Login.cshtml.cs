using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
using IdentityServer.Account;
using IdentityServer.Audit;
using IdentityServer.Authorization;
using IdentityServer.Data;
using IdentityServer.Observability;
using IdentityServer.RateLimiting;
using IdentityServer.Sessions;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Pages.Account;

/// <summary>
/// Sign-in with username or email and password; <see cref="PasswordSignIn"/> checks it and keeps the
/// lockout count. Attempts are rate-limited per address and per login entered before any password is checked.
/// </summary>
internal sealed class LoginModel(
    UserManager<ApplicationUser> users,
    SignInManager<ApplicationUser> signIn,
    PasswordSignIn passwords,
    ReauthenticationMarkers reauthentication,
    IOpenIddictApplicationManager applications,
    SessionService sessions,
    AuditLog audit,
    RateLimiters limits,
    IdentityServerMetrics metrics,
    TimeProvider clock) : PageModel
{
    private const string GenericFailure = "The username or password is incorrect.";
    private const string LockedOut = "This account is locked because of repeated failed sign-ins. Try again later.";

    [BindProperty]
    public LoginInput Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? ErrorMessage { get; private set; }

    public string? ClientName { get; private set; }

    public async Task OnGetAsync() => ClientName = await FindClientNameAsync();

    public async Task<IActionResult> OnPostAsync()
    {
        ClientName = await FindClientNameAsync();
        if (!ModelState.IsValid)
        {
            ErrorMessage = "Enter your username or email and your password.";
            return Page();
        }

        // The same refusal for every login, known or not, so it tells nothing about which accounts exist.
        using (var lease = limits.AcquireSignIn(HttpContext, Input.Login))
        {
            if (!lease.IsAcquired)
            {
                var seconds = RateLimitResponses.Refuse(Response, lease);
                ErrorMessage = $"Too many sign-in attempts. Wait {RateLimitResponses.Describe(seconds)}, then try again.";
                return Page();
            }
        }

        // Unknown logins get the same answers as accounts, so they tell nothing about which exist.
        // Not cancelled with the request: a guess whose client hangs up is still counted and recorded.
        var check = await passwords.CheckAsync(Input.Login, Input.Password, CancellationToken.None);
        if (check.Outcome != PasswordCheckOutcome.Succeeded || check.User is not { } user)
        {
            await RefuseAsync(check);
            return Page();
        }

        // Signing in again as the same user in the same browser (prompt=login, max_age) keeps the
        // session and the grants issued in it; any other sign-in starts a new session.
        string[] methods = ["pwd"];
        string sessionId;
        var current = User.FindFirst(SessionService.SessionIdClaim)?.Value;
        if (current is not null && users.GetUserId(User) is { } previousUser && previousUser != user.Id)
        {
            // Another account is signed in here. Its cookie refers to its session, which the cookie
            // handler would renew rather than replace: end that session, sign this browser out, and
            // ask for the new account's password again with a fresh (anonymous) form.
            await sessions.EndAsync(current, SessionEndReasons.SignedOut, previousUser, HttpContext.RequestAborted);
            await signIn.SignOutAsync();
            HttpContext.User = new ClaimsPrincipal(new ClaimsIdentity());
            ErrorMessage = "The account that was signed in here has been signed out. Sign in again to continue.";
            return Page();
        }
        if (current is not null && await sessions.FindActiveAsync(current, HttpContext.RequestAborted) is not null)
        {
            sessionId = current;
            HttpContext.Items[SessionTicketStore.KeptSessionItem] = current;
        }
        else if (await sessions.PrepareAsync(user, methods, HttpContext) is { } session)
        {
            sessionId = session.Id;
            HttpContext.Items[SessionTicketStore.StartingSessionItem] = session;
        }
        else
        {
            metrics.SignIn(SignInResultTag.Failed);
            await audit.RecordAsync(SecurityEventTypes.SignInFailed, user.Id, user.UserName, detail: "session_limit", cancellationToken: HttpContext.RequestAborted);
            ErrorMessage = "You are signed in on too many devices. Sign out of one of them first.";
            return Page();
        }

        // auth_time and amr travel in the cookie so the authorization endpoint can honour max_age.
        var now = clock.GetUtcNow();
        metrics.SignIn(SignInResultTag.Succeeded);
        audit.Add(SecurityEventTypes.SignInSucceeded, user.Id, user.UserName, sessionId, detail: string.Join(' ', methods));
        // The cookie ticket is saved with the session, and the event with it (one write).
        await signIn.SignInWithClaimsAsync(user, isPersistent: false,
        [
            new Claim(Claims.AuthenticationTime, now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), ClaimValueTypes.Integer64),
            new Claim(Claims.AuthenticationMethodReference, methods[0]),
            new Claim(SessionService.SessionIdClaim, sessionId),
            // Which prompt=login / max_age request this sign-in was made for (used up by that request).
            .. reauthentication.ClaimsForSignIn(ReturnUrl),
        ]);

        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/");
    }

    /// <summary>
    /// Records a refused attempt (metrics, audit) and sets the message. The audit keeps what was
    /// wrong: a counted wrong password is sign_in_failed; the one that locked the account is
    /// locked_out with the same detail; an attempt refused because the account was locked (no
    /// password accepted) is locked_out with none. Unknown logins say unknown_account.
    /// </summary>
    private async Task RefuseAsync(PasswordCheck check)
    {
        var (type, detail) = check.Outcome switch
        {
            PasswordCheckOutcome.FailedAndLocked => (SecurityEventTypes.LockedOut, "wrong_password"),
            PasswordCheckOutcome.LockedOut => (SecurityEventTypes.LockedOut, null),
            PasswordCheckOutcome.NotAllowed => (SecurityEventTypes.SignInFailed, "not_allowed"),
            _ => (SecurityEventTypes.SignInFailed, "wrong_password"),
        };
        var locked = type == SecurityEventTypes.LockedOut;
        metrics.SignIn(locked ? SignInResultTag.LockedOut : SignInResultTag.Failed);
        await audit.RecordAsync(type, check.User?.Id, check.AuditUserName, detail: check.User is null ? "unknown_account" : detail,
            cancellationToken: CancellationToken.None);
        ErrorMessage = locked ? LockedOut : GenericFailure;
    }

    /// <summary>Shows which app asked for the sign-in when the return URL is an authorization request.</summary>
    private async Task<string?> FindClientNameAsync()
    {
        if (!Url.IsLocalUrl(ReturnUrl) || !ReturnUrl.StartsWith("/connect/authorize?", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var query = QueryHelpers.ParseQuery(ReturnUrl[ReturnUrl.IndexOf('?', StringComparison.Ordinal)..]);
        if (query.TryGetValue(Parameters.ClientId, out var clientId) && clientId.Count == 1 && clientId[0] is { Length: > 0 and <= 200 } id
            && await applications.FindByClientIdAsync(id, HttpContext.RequestAborted) is { } application)
        {
            return await applications.GetLocalizedDisplayNameAsync(application, HttpContext.RequestAborted);
        }
        return null;
    }

    public sealed class LoginInput
    {
        [Required, StringLength(256)]
        public string Login { get; set; } = "";

        [Required, StringLength(512)]
        public string Password { get; set; } = "";
    }
}
