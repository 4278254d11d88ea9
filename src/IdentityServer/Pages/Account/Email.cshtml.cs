using IdentityServer.Localization;
using System.ComponentModel.DataAnnotations;
using IdentityServer.Account;
using IdentityServer.Data;
using IdentityServer.Email;
using IdentityServer.RateLimiting;
using IdentityServer.TwoFactor;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// The signed-in user's e-mail address: whether it is verified, a (new) verification link, and a
/// change of address that takes effect only when the link sent to the new address is followed.
/// Mail goes out during the request, so a failure can be shown; every mail sent from here counts
/// against <c>RateLimits:AccountEmailPerUser</c>.
/// </summary>
[Authorize]
internal sealed class EmailModel(UserManager<ApplicationUser> users, AccountEmail addresses, MailSender mail, RateLimiters limits, FreshSignIn freshSignIn) : PageModel
{
    private const string SendFailed = "The mail could not be sent right now. Try again later.";

    [BindProperty]
    public ChangeInput Input { get; set; } = new();

    public string? Email { get; private set; }

    public bool Verified { get; private set; }

    public bool MailAvailable => mail.IsEnabled;

    /// <summary>
    /// Whether the sign-in is recent enough to change the address. The address is where password
    /// resets go: a browser left signed in must not be enough to move it and take the account over.
    /// </summary>
    public bool SignInIsFresh => freshSignIn.IsFresh(User);

    public int FreshSignInMinutes => freshSignIn.Minutes;

    public string? Message { get; private set; }

    public string? ErrorMessage { get; private set; }

    public async Task<IActionResult> OnGetAsync() => await ShowAsync();

    public async Task<IActionResult> OnPostSendVerificationAsync()
    {
        if (await users.GetUserAsync(User) is not { } user)
        {
            return Challenge();
        }
        if (!MailAvailable || user.Email is null || user.EmailConfirmed)
        {
            return await ShowAsync(user);
        }
        if (!TryAcquire(user))
        {
            return await ShowAsync(user);
        }
        if (await addresses.SendVerificationAsync(user, CancellationToken.None))
        {
            Message = Texts.Get("We sent a verification link to {0}.", user.Email);
        }
        else
        {
            ErrorMessage = Texts.Get(SendFailed);
        }
        return await ShowAsync(user);
    }

    public async Task<IActionResult> OnPostChangeAsync()
    {
        if (await users.GetUserAsync(User) is not { } user)
        {
            return Challenge();
        }
        if (!MailAvailable)
        {
            return await ShowAsync(user);
        }
        if (!SignInIsFresh)
        {
            return RedirectToPage("/Account/Login", new { ReturnUrl = "/Account/Email" });
        }
        if (!ModelState.IsValid || !MailAddresses.CanSendTo(Input.NewEmail.Trim()))
        {
            ErrorMessage = Texts.Get("Enter a valid e-mail address.");
            return await ShowAsync(user);
        }
        var newEmail = Input.NewEmail.Trim();
        if (string.Equals(users.NormalizeEmail(newEmail), user.NormalizedEmail, StringComparison.Ordinal))
        {
            Message = user.EmailConfirmed ? Texts.Get("That is already your address.") : Texts.Get("That is already your address. Send yourself a verification link to verify it.");
            return await ShowAsync(user);
        }
        if (!TryAcquire(user))
        {
            return await ShowAsync(user);
        }
        if (await addresses.RequestChangeAsync(user, newEmail, CancellationToken.None))
        {
            Message = user.Email is null ? Texts.Get("We sent a link to {0}. Your account has no address until you follow it.", newEmail) : Texts.Get("We sent a link to {0}. Your address stays {1} until you follow it.", newEmail, user.Email);
            Input = new();
        }
        else
        {
            ErrorMessage = Texts.Get(SendFailed);
        }
        return await ShowAsync(user);
    }

    /// <summary>Counts one mail against the user's limit; when spent, says how long to wait (429).</summary>
    private bool TryAcquire(ApplicationUser user)
    {
        using var lease = limits.AcquireAccountEmail(user.Id);
        if (lease.IsAcquired)
        {
            return true;
        }
        var seconds = RateLimitResponses.Refuse(Response, lease);
        ErrorMessage = Texts.Get("Too many mails sent. Wait {0}, then try again.", RateLimitResponses.DescribeForReader(seconds));
        return false;
    }

    private async Task<IActionResult> ShowAsync(ApplicationUser? user = null)
    {
        user ??= await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge();
        }
        Email = user.Email;
        Verified = user.EmailConfirmed;
        return Page();
    }

    public sealed class ChangeInput
    {
        [Required, EmailAddress, StringLength(256)]
        public string NewEmail { get; set; } = "";
    }
}
