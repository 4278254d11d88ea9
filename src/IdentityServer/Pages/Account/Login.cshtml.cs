using IdentityServer.Localization;
using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using IdentityServer.Account;
using IdentityServer.Audit;
using IdentityServer.Observability;
using IdentityServer.Passkeys;
using IdentityServer.RateLimiting;
using IdentityServer.Registration;
using IdentityServer.TwoFactor;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Pages.Account;

/// <summary>
/// Sign-in with username or email and password; <see cref="PasswordSignIn"/> checks it and keeps the
/// lockout count, <see cref="SessionSignIn"/> starts or keeps the session and issues the cookie.
/// Attempts are rate-limited per address and per login entered before any password is checked.
/// "Sign in with a passkey" posts the browser's answer instead (<see cref="PasskeySignIn"/>): a full
/// sign-in with no second step, rate-limited per address.
/// </summary>
internal sealed class LoginModel(
    PasswordSignIn passwords,
    SessionSignIn sessionSignIn,
    PendingSignIns secondStep,
    PasskeySignIn passkeys,
    IOpenIddictApplicationManager applications,
    AuditLog audit,
    RateLimiters limits,
    IdentityServerMetrics metrics,
    Registrations registrations) : PageModel
{
    private const string GenericFailure = "The username or password is incorrect.";
    private const string LockedOut = "This account is locked because of repeated failed sign-ins. Try again later.";

    [BindProperty]
    public LoginInput Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    /// <summary>What <c>navigator.credentials.get()</c> returned, as JSON (set by passkeys.js).</summary>
    [BindProperty]
    public string? PasskeyCredential { get; set; }

    public string? ErrorMessage { get; private set; }

    public string? ClientName { get; private set; }

    public async Task OnGetAsync()
    {
        ClientName = await FindClientNameAsync();
        // Signing in again (prompt=login, max_age) offers the session's own choice; the box as sent applies.
        Input.RememberMe = (await HttpContext.AuthenticateAsync(IdentityConstants.ApplicationScheme)).Properties?.IsPersistent == true;
    }

    public async Task<IActionResult> OnPostAsync()
    {
        ClientName = await FindClientNameAsync();
        if (!ModelState.IsValid)
        {
            return Show(Texts.Get("Enter your username or email and your password."));
        }
        if (RefuseWhenRateLimited() is { } wait)
        {
            return Show(wait);
        }

        // Unknown logins get the same answers as accounts, so they tell nothing about which exist.
        // Not cancelled with the request: a guess whose client hangs up is still counted and recorded.
        var check = await passwords.CheckAsync(Input.Login, Input.Password, CancellationToken.None);
        if (check is not { Outcome: PasswordCheckOutcome.Succeeded, User: { } user })
        {
            return await RefuseAsync(check);
        }
        if (await registrations.MustVerifyAsync(user))
        {
            return await RefuseUnverifiedAsync(user);
        }
        if (user.TwoFactorEnabled)
        {
            // The session starts only after the second step (LoginWith2fa).
            await secondStep.StartAsync(HttpContext, user, Input.RememberMe);
            metrics.SignIn(SignInResultTag.SecondFactorRequired);
            return RedirectToPage("/Account/LoginWith2fa", new { ReturnUrl });
        }

        return Finish(await sessionSignIn.SignInAsync(HttpContext, user, [AuthenticationMethods.Password], Input.RememberMe, ReturnUrl));
    }

    /// <summary>Sign-in with a passkey: the account is the one the passkey belongs to; no password, no second step.</summary>
    public async Task<IActionResult> OnPostPasskeyAsync()
    {
        ClientName = await FindClientNameAsync();
        using (var lease = limits.AcquirePasskeySignIn(HttpContext))
        {
            if (!lease.IsAcquired)
            {
                return Show(Texts.Get("Too many sign-in attempts. Wait {0}, then try again.", RateLimitResponses.DescribeForReader(RateLimitResponses.Refuse(Response, lease))));
            }
        }
        // Not cancelled with the request: a refusal is still recorded.
        var check = await passkeys.CheckAsync(PasskeyCredential, CancellationToken.None);
        return check switch
        {
            { Outcome: PasskeySignInOutcome.Succeeded, User: { } user } =>
                Finish(await sessionSignIn.SignInAsync(HttpContext, user, PasskeySignIn.Methods, remember: false, ReturnUrl)),
            { Outcome: PasskeySignInOutcome.LockedOut } => Show(Texts.Get(LockedOut)),
            _ => Show(Texts.Get("That passkey did not work. Try again, or sign in with your password.")),
        };
    }

    /// <summary>Where a sign-in whose account is settled goes: on to the return URL, or the page again with why not.</summary>
    private IActionResult Finish(SessionSignInResult result)
    {
        return result switch
        {
            SessionSignInResult.SignedIn => LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/"),
            SessionSignInResult.OtherAccountSignedOut => Show(Texts.Get("The account that was signed in here has been signed out. Sign in again to continue.")),
            SessionSignInResult.SessionLimitReached => Show(Texts.Get("You are signed in on too many devices. Sign out of one of them first.")),
            _ => throw new UnreachableException(),
        };
    }

    /// <summary>The page again, with a message.</summary>
    private PageResult Show(string message)
    {
        ErrorMessage = message;
        return Page();
    }

    /// <summary>
    /// Null when the attempt may go on; otherwise the message, with a 429 and Retry-After already
    /// set. The same refusal for every login, known or not, so it tells nothing about which accounts exist.
    /// </summary>
    private string? RefuseWhenRateLimited()
    {
        using var lease = limits.AcquireSignIn(HttpContext, Input.Login);
        if (lease.IsAcquired)
        {
            return null;
        }
        var seconds = RateLimitResponses.Refuse(Response, lease);
        return Texts.Get("Too many sign-in attempts. Wait {0}, then try again.", RateLimitResponses.DescribeForReader(seconds));
    }

    /// <summary>
    /// Records a refused attempt (metrics, audit) and shows the message. The audit keeps what was
    /// wrong: a counted wrong password is sign_in_failed; the one that locked the account is
    /// locked_out with the same detail; an attempt refused because the account was locked (no
    /// password accepted) is locked_out with none. Unknown logins say unknown_account.
    /// </summary>
    private async Task<PageResult> RefuseAsync(PasswordCheck check)
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
        return Show(Texts.Get(locked ? LockedOut : GenericFailure));
    }

    /// <summary>
    /// A self-registered account whose address is not verified yet. Only someone who knows the
    /// password gets here (a wrong one gets the usual failure), so saying so reveals nothing; a new
    /// link goes out, within the per-user limit of account mails.
    /// </summary>
    private async Task<PageResult> RefuseUnverifiedAsync(Data.ApplicationUser user)
    {
        metrics.SignIn(SignInResultTag.Failed);
        await audit.RecordAsync(SecurityEventTypes.SignInFailed, user.Id, user.UserName, detail: "email_not_verified", cancellationToken: CancellationToken.None);
        using (var lease = limits.AcquireAccountEmail(user.Id))
        {
            if (lease.IsAcquired)
            {
                await registrations.QueueVerificationAsync(user);
            }
        }
        return Show(Texts.Get("Your e-mail address is not verified yet. We have sent a verification link to it (unless we sent several recently): follow the link, then sign in."));
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

        /// <summary>A cookie that outlives the browser, never the session (see <see cref="SessionSignIn"/>).</summary>
        public bool RememberMe { get; set; }
    }
}
