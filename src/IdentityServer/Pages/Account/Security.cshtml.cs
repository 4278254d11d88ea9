using IdentityServer.Localization;
using System.ComponentModel.DataAnnotations;
using IdentityServer.Account;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Observability;
using IdentityServer.RateLimiting;

using IdentityServer.Passkeys;
using IdentityServer.Sessions;
using IdentityServer.TwoFactor;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// The account's second factors: whether the authenticator app is on and how many recovery codes
/// are left; set it up (Account/Authenticator), get new recovery codes (with a current code from
/// the app, checked and counted as at sign-in), or turn it off (with a fresh sign-in).
/// </summary>
[Authorize]
internal sealed class SecurityModel(
    UserManager<ApplicationUser> users,
    SignInManager<ApplicationUser> signIn,
    SecondFactors secondFactors,
    SecondFactorCheck check,
    SessionSignIn sessionSignIn,
    FreshSignIn freshSignIn,
    AccountPasskeys passkeys,
    AuditLog audit,
    RateLimiters limits,
    IdentityServerMetrics metrics) : PageModel
{
    private const string ThisPage = "/Account/Security";

    [BindProperty]
    public CodeInput Input { get; set; } = new();

    public bool AuthenticatorEnabled { get; private set; }

    public int RecoveryCodesLeft { get; private set; }

    /// <summary>Whether the sign-in is recent enough to set up or turn off the authenticator without signing in again.</summary>
    public bool SignInIsFresh { get; private set; }

    public int FreshSignInMinutes => freshSignIn.Minutes;

    public string? Message { get; private set; }

    public string? ErrorMessage { get; private set; }

    /// <summary>The Passkeys section (its forms post to Account/Passkeys).</summary>
    public PasskeySection Passkeys { get; private set; } = new([], false, 0, null);

    /// <summary>New recovery codes: shown on this response only.</summary>
    public IReadOnlyList<string>? RecoveryCodes { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (Request.Query.ContainsKey("off"))
        {
            Message = Texts.Get("Your authenticator app is off. Your other sessions were signed out.");
        }
        return await ShowAsync();
    }

    /// <summary>New recovery codes, for a current code from the app: a signed-in browser alone must not be enough to get them.</summary>
    public async Task<IActionResult> OnPostRecoveryCodesAsync()
    {
        if (await users.GetUserAsync(User) is not { } user)
        {
            return Challenge();
        }
        if (!user.TwoFactorEnabled)
        {
            return await ShowAsync();
        }
        // The same per-account limit as the sign-in steps: the lockout caps guesses, this keeps a
        // stolen session from locking the account in one burst.
        using (var lease = limits.AcquireSignIn(HttpContext, user.UserName ?? user.Id))
        {
            if (!lease.IsAcquired)
            {
                var seconds = RateLimitResponses.Refuse(Response, lease);
                ErrorMessage = Texts.Get("Too many attempts. Wait {0}, then try again.", RateLimitResponses.DescribeForReader(seconds));
                return await ShowAsync();
            }
        }
        var sessionId = User.FindFirst(SessionService.SessionIdClaim)?.Value;
        // Not cancelled with the request: a guess still counts.
        var result = await check.CheckCodeAsync(user, ModelState.IsValid ? Input.Code : null, CancellationToken.None);
        switch (result.Outcome)
        {
            case SecondFactorOutcome.Succeeded:
                RecoveryCodes = await secondFactors.NewRecoveryCodesAsync(user.Id, sessionId, HttpContext.RequestAborted);
                return await ShowAsync();
            case SecondFactorOutcome.Expired:
                return await ShowAsync();
        }
        var locked = result.Outcome is SecondFactorOutcome.FailedAndLocked or SecondFactorOutcome.LockedOut;
        await audit.RecordAsync(locked ? SecurityEventTypes.LockedOut : SecurityEventTypes.SecondFactorFailed, user.Id, user.UserName, sessionId,
            detail: result.Outcome == SecondFactorOutcome.LockedOut ? "recovery_codes" : "recovery_codes_" + result.Failure,
            cancellationToken: CancellationToken.None);
        metrics.SignIn(locked ? SignInResultTag.LockedOut : SignInResultTag.SecondFactorFailed);
        if (locked)
        {
            // As on the change-password page: a locked account's browser is signed out.
            await signIn.SignOutAsync();
            return RedirectToPage("/Account/Login");
        }
        ErrorMessage = Texts.Get("That code is not right. Enter the current code from your authenticator app.");
        return await ShowAsync();
    }

    /// <summary>Turns the authenticator off: only right after signing in, else through the sign-in page first.</summary>
    public async Task<IActionResult> OnPostTurnOffAsync()
    {
        if (!freshSignIn.IsFresh(User))
        {
            return RedirectToPage("/Account/Login", new { ReturnUrl = ThisPage });
        }
        if (await users.GetUserAsync(User) is not { } user)
        {
            return Challenge();
        }
        if (!user.TwoFactorEnabled)
        {
            return await ShowAsync();
        }
        var sessionId = User.FindFirst(SessionService.SessionIdClaim)?.Value;
        var (saved, _) = await secondFactors.DisableAsync(user.Id, SecurityEventTypes.AuthenticatorDisabled, user.Id, sessionId, HttpContext.RequestAborted);
        await sessionSignIn.RenewCookieAsync(HttpContext, saved);
        // Redirected, so that reloading the page does not post again.
        return RedirectToPage(new { off = 1 });
    }

    private async Task<PageResult> ShowAsync()
    {
        var user = (await users.GetUserAsync(User))!;
        (AuthenticatorEnabled, RecoveryCodesLeft) = await secondFactors.StatusAsync(user);
        SignInIsFresh = freshSignIn.IsFresh(User);
        Passkeys = new(await passkeys.ListAsync(user), SignInIsFresh, FreshSignInMinutes, Request.Query["passkey"].FirstOrDefault());
        Input = new();
        return Page();
    }

    public sealed class CodeInput
    {
        [Required, StringLength(64)]
        public string Code { get; set; } = "";
    }
}
