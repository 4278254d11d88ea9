using IdentityServer.Localization;
using System.Security.Claims;
using IdentityServer.Account;
using IdentityServer.Data;
using IdentityServer.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Pages.Account;

/// <summary>
/// The page a change-of-address mail links to (sent to the new address). Opening it changes
/// nothing; the button makes the address the account's. A browser signed in to that account keeps
/// its session (its cookie is issued again with the new security stamp); every other session ends.
/// </summary>
internal sealed class ConfirmEmailChangeModel(AccountEmail addresses, SignInManager<ApplicationUser> signIn) : PageModel
{
    private static readonly InvalidLink AskAgain = new("Sign in and ask for a new link", "/Account/Email");

    private static readonly InvalidLink InUse = new("Back to your e-mail address", "/Account/Email",
        "This address now belongs to another account, so it cannot be yours.");

    [BindProperty(SupportsGet = true)]
    public string? UserId { get; set; }

    [BindProperty(SupportsGet = true, Name = "email")]
    public string? NewEmail { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Token { get; set; }

    public string? UserName { get; private set; }

    public InvalidLink? Invalid { get; private set; }

    public bool Done { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (await addresses.OpenChangeLinkAsync(UserId, NewEmail, Token) is not { } user)
        {
            return Refuse(AskAgain);
        }
        UserName = user.UserName;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var signedInHere = UserId is not null && signIn.UserManager.GetUserId(User) == UserId;
        var keep = signedInHere ? User.FindFirst(SessionService.SessionIdClaim)?.Value : null;
        var (result, user) = await addresses.ChangeAsync(UserId, NewEmail, Token, keep, CancellationToken.None);
        if (result != EmailChangeResult.Changed)
        {
            return Refuse(result == EmailChangeResult.AddressInUse ? InUse : AskAgain);
        }
        if (keep is not null)
        {
            // The cookie carries the old security stamp, which would sign this browser out at its
            // next check: issue it again for the same session, keeping when and how the user signed in.
            var kept = User.Claims
                .Where(static c => c.Type is Claims.AuthenticationTime or Claims.AuthenticationMethodReference or SessionService.SessionIdClaim)
                .Select(static c => new Claim(c.Type, c.Value, c.ValueType))
                .ToList();
            var properties = (await HttpContext.AuthenticateAsync(IdentityConstants.ApplicationScheme)).Properties;
            await signIn.SignInWithClaimsAsync(user!, properties, kept);
        }
        Done = true;
        return Page();
    }

    private PageResult Refuse(InvalidLink page)
    {
        Invalid = page;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
