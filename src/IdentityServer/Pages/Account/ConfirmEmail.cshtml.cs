using IdentityServer.Localization;
using IdentityServer.Account;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// The page a verification mail links to. Opening it changes nothing (mail scanners open links);
/// the button does. A link that cannot be used, including one already used, gets the friendly page (400).
/// </summary>
internal sealed class ConfirmEmailModel(AccountEmail addresses) : PageModel
{
    private static readonly InvalidLink AskAgain = new("Sign in and ask for a new link", "/Account/Email");

    [BindProperty(SupportsGet = true)]
    public string? UserId { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Token { get; set; }

    public string? Email { get; private set; }

    public string? UserName { get; private set; }

    public InvalidLink? Invalid { get; private set; }

    public bool Done { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (await addresses.OpenVerificationLinkAsync(UserId, Token) is not { } user)
        {
            return Refuse();
        }
        (Email, UserName) = (user.Email, user.UserName);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (await addresses.VerifyAsync(UserId, Token) is not { } user)
        {
            return Refuse();
        }
        (Email, Done) = (user.Email, true);
        return Page();
    }

    private PageResult Refuse()
    {
        Invalid = AskAgain;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
