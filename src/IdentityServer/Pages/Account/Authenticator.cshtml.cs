using IdentityServer.Localization;
using System.ComponentModel.DataAnnotations;
using IdentityServer.Account;
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
/// Setting up an authenticator app: a QR code and the key to type, then a code from the app to
/// confirm, then ten recovery codes shown once. Needs a fresh sign-in (<see cref="FreshSignIn"/>):
/// whoever turns the authenticator on decides who can sign in afterwards.
/// An application that requires two factors (RequireMfa, acr_values=mfa) sends a user without any
/// here, with its authorization request as <see cref="ReturnUrl"/>. Then the confirmed code counts
/// as the step-up the application waits for: it is a second factor proved just after a fresh
/// password, and asking for another would mean waiting for the app's next code. The session's amr
/// becomes two-factor (<see cref="SessionStepUp"/>). Set up from the Security page alone, the
/// session keeps the amr of its sign-in.
/// </summary>
[Authorize]
internal sealed class AuthenticatorModel(
    UserManager<ApplicationUser> users,
    SecondFactors secondFactors,
    SecondFactorCheck check,
    SessionSignIn sessionSignIn,
    SessionStepUp stepUp,
    FreshSignIn freshSignIn,
    IOptions<TwoFactorOptions> options) : PageModel
{
    private const string ThisPage = "/Account/Authenticator";

    [BindProperty]
    public CodeInput Input { get; set; } = new();

    /// <summary>Where the user goes on once the authenticator is on (an authorization request that asked for two factors); local only.</summary>
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    /// <summary>The key, grouped for typing.</summary>
    public string Key { get; private set; } = "";

    public string QrCode { get; private set; } = "";

    public string? ErrorMessage { get; private set; }

    /// <summary>Set once the authenticator is on: shown on this response only.</summary>
    public IReadOnlyList<string>? RecoveryCodes { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (await GateAsync() is { } elsewhere)
        {
            return elsewhere;
        }
        return await ShowKeyAsync();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (await GateAsync() is { } elsewhere)
        {
            return elsewhere;
        }
        var user = (await users.GetUserAsync(User))!;
        if (!ModelState.IsValid || !await check.ConfirmEnrolmentAsync(user, Input.Code, CancellationToken.None))
        {
            ErrorMessage = Texts.Get("That code is not right. Enter the code the app shows now; if it still fails, check that the time on your phone is set automatically.");
            return await ShowKeyAsync();
        }
        var sessionId = User.FindFirst(SessionService.SessionIdClaim)?.Value;
        var (codes, saved) = await secondFactors.EnableAsync(user.Id, sessionId, HttpContext.RequestAborted);
        // Turning the authenticator on changed the security stamp this browser's cookie carries: the cookie is issued again.
        if (LocalReturnUrl is not null)
        {
            await stepUp.RaiseAsync(HttpContext, saved, [AuthenticationMethods.OneTimePassword, AuthenticationMethods.MultiFactor], StepUpPolicy.ClientIdOf(LocalReturnUrl));
        }
        else
        {
            await sessionSignIn.RenewCookieAsync(HttpContext, saved);
        }
        RecoveryCodes = codes;
        return Page();
    }

    /// <summary>Where to go instead of this page: sign in again when the sign-in is not fresh; the Security page when the authenticator is on already.</summary>
    private async Task<IActionResult?> GateAsync()
    {
        if (!freshSignIn.IsFresh(User))
        {
            return RedirectToPage("/Account/Login", new { ReturnUrl = Url.Page(ThisPage, new { ReturnUrl = LocalReturnUrl }) });
        }
        if (await users.GetUserAsync(User) is not { } user || User.FindFirst(SessionService.SessionIdClaim) is null)
        {
            return Challenge();
        }
        if (user.TwoFactorEnabled)
        {
            return LocalReturnUrl is { } returnUrl ? LocalRedirect(returnUrl) : RedirectToPage("/Account/Security");
        }
        // Sent here by an application, but the session has two factors already (a passkey sign-in on
        // the way through the sign-in page): nothing to set up for it.
        if (LocalReturnUrl is { } next && AuthenticationLevels.Reaches(
            AuthenticationLevels.Of(User.FindAll(Claims.AuthenticationMethodReference).Select(static c => c.Value)), AuthenticationLevels.MultiFactor))
        {
            return LocalRedirect(next);
        }
        return null;
    }

    /// <summary>Whether the account has a passkey, when an application sent the user here: offered instead of setting up an app.</summary>
    public bool HasPasskey { get; private set; }

    /// <summary>The return URL when it stays on this server; never anywhere else.</summary>
    public string? LocalReturnUrl => Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : null;

    private async Task<PageResult> ShowKeyAsync()
    {
        var user = (await users.GetUserAsync(User))!;
        // The gate let through only a cookie that names its session.
        // An application asked for two factors: a passkey is two already, so its owner may use it instead.
        HasPasskey = LocalReturnUrl is not null && (await users.GetPasskeysAsync(user)).Count > 0;
        var key = await secondFactors.KeyToSetUpAsync(user.Id, User.FindFirst(SessionService.SessionIdClaim)!.Value);
        Key = AuthenticatorCodes.Grouped(key);
        QrCode = AuthenticatorQrCode.PngDataUri(AuthenticatorQrCode.Uri(options.Value.AuthenticatorIssuer, user.UserName ?? user.Id, key));
        Input = new();
        return Page();
    }

    public sealed class CodeInput
    {
        [Required, StringLength(64)]
        public string Code { get; set; } = "";
    }
}
