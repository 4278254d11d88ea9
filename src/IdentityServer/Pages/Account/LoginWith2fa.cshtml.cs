using IdentityServer.Localization;
using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Globalization;
using IdentityServer.Account;
using IdentityServer.Audit;
using IdentityServer.TwoFactor;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// The second sign-in step of an account with an authenticator: a code from the app, or one of the
/// recovery codes. Which account comes only from the two-factor cookie the password step set
/// (<see cref="PendingSignIns"/>); wrong codes count towards the lockout (<see cref="SecondFactorCheck"/>);
/// every wrong code gets the same answer, whatever was wrong with it.
/// </summary>
internal sealed class LoginWith2faModel(
    PendingSignIns pending,
    SecondFactorCheck check,
    SessionSignIn sessionSignIn,
    AuditLog audit,
    SecondFactorRefusals refusals) : PageModel
{
    [BindProperty]
    public CodeInput Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? ErrorMessage { get; private set; }

    public async Task<IActionResult> OnGetAsync() =>
        await pending.FindAsync(HttpContext) is null ? StartAgain() : Page();

    public async Task<IActionResult> OnPostAsync()
    {
        if (await pending.FindAsync(HttpContext) is not { } signIn)
        {
            return StartAgain();
        }
        if (!ModelState.IsValid)
        {
            return Show(Texts.Get("Enter the code from your authenticator app, or a recovery code."));
        }
        if (refusals.RefuseWhenRateLimited(HttpContext, signIn.User.UserName ?? signIn.User.Id) is { } wait)
        {
            return Show(wait);
        }

        // Not cancelled with the request: a guess whose client hangs up is still counted and recorded.
        var result = await check.CheckSignInAsync(signIn.User, signIn.SecurityStamp, Input.Code, CancellationToken.None);
        switch (result.Outcome)
        {
            case SecondFactorOutcome.Succeeded:
                return await SignInAsync(signIn, result);
            case SecondFactorOutcome.Expired:
                await PendingSignIns.EndAsync(HttpContext);
                return StartAgain();
            default:
                return await RefuseAsync(result);
        }
    }

    private async Task<IActionResult> SignInAsync(PendingSignIn signIn, SecondFactorResult result)
    {
        await PendingSignIns.EndAsync(HttpContext);
        var user = result.User;
        if (result.RecoveryCodesLeft is { } left)
        {
            audit.Add(SecurityEventTypes.RecoveryCodeUsed, user.Id, user.UserName, detail: left.ToString(CultureInfo.InvariantCulture));
        }
        var outcome = await sessionSignIn.SignInAsync(HttpContext, user, result.Methods, signIn.Remember, ReturnUrl);
        return outcome switch
        {
            SessionSignInResult.SignedIn => LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/"),
            SessionSignInResult.OtherAccountSignedOut => StartAgain(),
            SessionSignInResult.SessionLimitReached => Show(Texts.Get("You are signed in on too many devices. Sign out of one of them first.")),
            _ => throw new UnreachableException(),
        };
    }

    /// <summary>Records a refused code (<see cref="SecondFactorRefusals"/>) and shows the one message for every wrong code.</summary>
    private async Task<IActionResult> RefuseAsync(SecondFactorResult result)
    {
        if (await refusals.RecordAsync(result))
        {
            // Nothing more can happen at this step: the next attempt starts with the password.
            await PendingSignIns.EndAsync(HttpContext);
            return Show(Texts.Get(SecondFactorRefusals.LockedOut));
        }
        return Show(Texts.Get(SecondFactorRefusals.WrongCode));
    }

    private PageResult Show(string message)
    {
        ErrorMessage = message;
        Input = new();
        return Page();
    }

    /// <summary>No sign-in waiting for a code here (none started, or it expired): back to the password.</summary>
    private RedirectToPageResult StartAgain() =>
        RedirectToPage("/Account/Login", new { ReturnUrl = Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : null });

    public sealed class CodeInput
    {
        [Required, StringLength(64)]
        public string Code { get; set; } = "";
    }
}
