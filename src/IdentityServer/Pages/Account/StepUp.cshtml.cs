using IdentityServer.Localization;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Sessions;
using IdentityServer.StepUp;
using IdentityServer.TwoFactor;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Pages.Account;

/// <summary>
/// A step-up: the signed-in user enters a code from the authenticator app (or a recovery code) for
/// an application that asks for two factors, without typing the password again. The account and
/// the session come only from this browser's cookie; the link is valid only for that session and the
/// one authorization request it returns to (<see cref="StepUpLinks"/>). Codes are checked, used up
/// and counted towards the lockout exactly as at the second sign-in step (<see cref="SecondFactorCheck"/>).
/// </summary>
[Authorize]
internal sealed class StepUpModel(
    UserManager<ApplicationUser> users,
    StepUpLinks links,
    SecondFactorCheck check,
    SessionStepUp stepUp,
    AuditLog audit,
    SecondFactorRefusals refusals,
    IOptions<IdentityOptions> identityOptions) : PageModel
{

    [BindProperty]
    public CodeInput Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Ticket { get; set; }

    public string? ErrorMessage { get; private set; }

    /// <summary>Set when the link cannot be used here: the page says so and offers nothing else.</summary>
    public bool LinkRefused { get; private set; }

    public async Task<IActionResult> OnGetAsync() => await GateAsync() ?? Page();

    public async Task<IActionResult> OnPostAsync()
    {
        if (await GateAsync() is { } elsewhere)
        {
            return elsewhere;
        }
        var user = (await users.GetUserAsync(User))!;
        if (!ModelState.IsValid)
        {
            return Show(Texts.Get("Enter the code from your authenticator app, or a recovery code."));
        }
        if (refusals.RefuseWhenRateLimited(HttpContext, user.UserName ?? user.Id) is { } wait)
        {
            return Show(wait);
        }

        // The stamp the cookie was issued with: a changed password or second factor since then ends here.
        var stamp = User.FindFirst(identityOptions.Value.ClaimsIdentity.SecurityStampClaimType)?.Value ?? "";
        // Not cancelled with the request: a guess whose client hangs up is still counted and recorded.
        var result = await check.CheckSignInAsync(user, stamp, Input.Code, CancellationToken.None);
        switch (result.Outcome)
        {
            case SecondFactorOutcome.Succeeded:
                if (result.RecoveryCodesLeft is { } left)
                {
                    audit.Add(SecurityEventTypes.RecoveryCodeUsed, user.Id, user.UserName, detail: left.ToString(CultureInfo.InvariantCulture));
                }
                await stepUp.RaiseAsync(HttpContext, result.User, result.Methods, StepUpPolicy.ClientIdOf(ReturnUrl));
                return LocalRedirect(ReturnUrl!);
            case SecondFactorOutcome.Expired:
                // The account changed since this browser signed in: the authorization request decides again.
                return LocalRedirect(ReturnUrl!);
            default:
                return await RefuseAsync(result);
        }
    }

    /// <summary>
    /// Null when the page may ask for a code. A link for another session or request, or an expired
    /// one, gets a page that says so (400), and nothing changes. A session that already reaches the
    /// level, or an account without an authenticator, goes back to the authorization request, which decides.
    /// </summary>
    private async Task<IActionResult?> GateAsync()
    {
        var sessionId = User.FindFirst(SessionService.SessionIdClaim)?.Value;
        if (!Url.IsLocalUrl(ReturnUrl) || links.Read(Ticket, sessionId, ReturnUrl) is not { } level)
        {
            LinkRefused = true;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        if (await users.GetUserAsync(User) is not { TwoFactorEnabled: true }
            || AuthenticationLevels.Reaches(AuthenticationLevels.Of(User.FindAll(Claims.AuthenticationMethodReference).Select(static c => c.Value)), level))
        {
            return LocalRedirect(ReturnUrl!);
        }
        return null;
    }

    /// <summary>Records a refused code as the second sign-in step does (<see cref="SecondFactorRefusals"/>), and shows the one message for every wrong code.</summary>
    private async Task<IActionResult> RefuseAsync(SecondFactorResult result) =>
        Show(await refusals.RecordAsync(result, User.FindFirst(SessionService.SessionIdClaim)?.Value, StepUpPolicy.ClientIdOf(ReturnUrl))
            ? Texts.Get(SecondFactorRefusals.LockedOut)
            : Texts.Get(SecondFactorRefusals.WrongCode));

    private PageResult Show(string message)
    {
        ErrorMessage = message;
        Input = new();
        return Page();
    }

    public sealed class CodeInput
    {
        [Required, StringLength(64)]
        public string Code { get; set; } = "";
    }
}
