using IdentityServer.Localization;
using IdentityServer.Data;
using IdentityServer.Passkeys;
using IdentityServer.Sessions;
using IdentityServer.TwoFactor;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// Adds, renames and removes the signed-in user's passkeys (<see cref="AccountPasskeys"/>) for the
/// forms of the Security page, then goes back to it with what happened. Each needs a sign-in of the
/// last few minutes (<see cref="FreshSignIn"/>), else the user signs in again first, as for turning
/// the authenticator off: a browser left signed in must not be enough to add a way into the account.
/// </summary>
[Authorize]
internal sealed class PasskeysModel(UserManager<ApplicationUser> users, AccountPasskeys passkeys, FreshSignIn freshSignIn) : PageModel
{
    private const string SecurityPage = "/Account/Security";

    [BindProperty]
    public string? Id { get; set; }

    [BindProperty]
    public string? Name { get; set; }

    /// <summary>What <c>navigator.credentials.create()</c> returned, as JSON (set by passkeys.js).</summary>
    [BindProperty]
    public string? Credential { get; set; }

    public IActionResult OnGet() => RedirectToPage(SecurityPage);

    public Task<IActionResult> OnPostAddAsync() => ChangeAsync((user, session) =>
        passkeys.AddAsync(user, Credential, Name, Request.Headers.UserAgent.ToString(), session, HttpContext.RequestAborted), PasskeySection.Added);

    public Task<IActionResult> OnPostRenameAsync() => ChangeAsync((user, session) =>
        passkeys.RenameAsync(user, Id, Name, session, HttpContext.RequestAborted), PasskeySection.Renamed);

    public Task<IActionResult> OnPostRemoveAsync() => ChangeAsync((user, session) =>
        passkeys.RemoveAsync(user, Id, session, HttpContext.RequestAborted), PasskeySection.Removed);

    private async Task<IActionResult> ChangeAsync(Func<ApplicationUser, string?, Task<PasskeyChangeResult>> change, string done)
    {
        if (!freshSignIn.IsFresh(User))
        {
            return RedirectToPage("/Account/Login", new { ReturnUrl = SecurityPage });
        }
        if (await users.GetUserAsync(User) is not { } user)
        {
            return Challenge();
        }
        var result = await change(user, User.FindFirst(SessionService.SessionIdClaim)?.Value);
        var status = result switch
        {
            PasskeyChangeResult.Done => done,
            PasskeyChangeResult.NotFound => PasskeySection.NotFound,
            _ => PasskeySection.Failed,
        };
        // Redirected, so that reloading the page does not post again.
        return LocalRedirect(Url.Page(SecurityPage, null, new { passkey = status }, null, null, "passkeys")!);
    }
}
