using IdentityServer.Localization;
using System.ComponentModel.DataAnnotations;
using IdentityServer.Invitations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// The page an invitation mail links to: the new user chooses a password, which also verifies the
/// address, and then signs in through the sign-in page (so second factors, lockout and the session
/// rules are the usual ones). Opening the link changes nothing; a link that cannot be used gets the
/// friendly page (400).
/// </summary>
internal sealed class AcceptInvitationModel(Invitation invitations) : PageModel
{
    // Only an administrator can send a new invitation; someone who already chose a password signs in.
    private static readonly InvalidLink AskAgain = new("Sign in (or, if you have not chosen a password yet, ask your administrator for a new invitation)", "/Account/Login");

    [BindProperty(SupportsGet = true)]
    public string? UserId { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Token { get; set; }

    [BindProperty]
    public PasswordInput Input { get; set; } = new();

    public string? UserName { get; private set; }

    public InvalidLink? Invalid { get; private set; }

    public IReadOnlyList<string> Errors { get; private set; } = [];

    public bool Done { get; private set; }

    public async Task<IActionResult> OnGetAsync() => Answer(await invitations.OpenAsync(UserId, Token) is { } user ? user.UserName : null);

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid)
        {
            // The link is checked first: a bad link gets its page, whatever was typed.
            var user = await invitations.OpenAsync(UserId, Token);
            Errors = [.. ModelState.Values.SelectMany(static v => v.Errors).Select(static e => e.ErrorMessage)];
            return Answer(user?.UserName);
        }
        var (state, errors) = await invitations.AcceptAsync(UserId, Token, Input.NewPassword, CancellationToken.None);
        if (state == InvitationLinkState.Valid && errors.Count == 0)
        {
            Done = true;
            return Page();
        }
        Errors = errors;
        return Answer(state == InvitationLinkState.Valid ? (await invitations.OpenAsync(UserId, Token))?.UserName : null);
    }

    private PageResult Answer(string? userName)
    {
        UserName = userName;
        if (userName is null)
        {
            Invalid = AskAgain;
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }
        Input = new();
        return Page();
    }

    public sealed class PasswordInput
    {
        [Required(ErrorMessage = "Enter a password.")]
        [StringLength(512, ErrorMessage = "Too long: at most {1} characters.")]
        [DataType(DataType.Password)]
        public string NewPassword { get; set; } = "";

        [Compare(nameof(NewPassword), ErrorMessage = "The passwords do not match.")]
        [DataType(DataType.Password)]
        public string ConfirmPassword { get; set; } = "";
    }
}
