using IdentityServer.Localization;
using System.ComponentModel.DataAnnotations;
using IdentityServer.Account;
using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// The page a reset mail links to: the link is checked when opened and again when used; a link that
/// cannot be used gets the friendly page (400) and changes nothing.
/// </summary>
internal sealed class ResetPasswordModel(PasswordReset resets, SignInManager<ApplicationUser> signIn) : PageModel
{
    private static readonly InvalidLink AskAgain = new("Ask for a new link", "/Account/ForgotPassword");

    private static readonly InvalidLink Locked = new("Back to sign in", "/Account/Login",
        "This account is locked by an administrator, so its password cannot be reset. Contact your administrator.");

    [BindProperty(SupportsGet = true)]
    public string? UserId { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Token { get; set; }

    [BindProperty]
    public PasswordInput Input { get; set; } = new();

    public InvalidLink? Invalid { get; private set; }

    public IReadOnlyList<string> Errors { get; private set; } = [];

    public bool Done { get; private set; }

    public async Task<IActionResult> OnGetAsync() => Answer(await resets.CheckLinkAsync(UserId, Token));

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid)
        {
            // The link is checked first: a bad link gets its page, whatever was typed.
            var state = await resets.CheckLinkAsync(UserId, Token);
            Errors = [.. ModelState.Values.SelectMany(static v => v.Errors).Select(static e => e.ErrorMessage)];
            return Answer(state);
        }
        var result = await resets.ResetAsync(UserId, Token, Input.NewPassword, CancellationToken.None);
        if (result.Succeeded)
        {
            // Every session of the account has ended; if this browser had one, its cookie goes too.
            if (signIn.UserManager.GetUserId(User) == UserId)
            {
                await signIn.SignOutAsync();
                HttpContext.User = new(new System.Security.Claims.ClaimsIdentity());
            }
            Done = true;
            return Page();
        }
        Errors = result.Errors;
        return Answer(result.Link);
    }

    private PageResult Answer(ResetLinkState state)
    {
        if (state != ResetLinkState.Valid)
        {
            Invalid = state == ResetLinkState.LockedByAdministrator ? Locked : AskAgain;
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }
        Input = new();
        return Page();
    }

    public sealed class PasswordInput
    {
        [Required(ErrorMessage = "Enter a new password.")]
        [StringLength(512, ErrorMessage = "Too long: at most {1} characters.")]
        [DataType(DataType.Password)]
        public string NewPassword { get; set; } = "";

        [Compare(nameof(NewPassword), ErrorMessage = "The new passwords do not match.")]
        [DataType(DataType.Password)]
        public string ConfirmPassword { get; set; } = "";
    }
}
