using IdentityServer.Localization;
using System.ComponentModel.DataAnnotations;
using IdentityServer.Account;
using IdentityServer.Email;
using IdentityServer.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace IdentityServer.Pages.Account;

/// <summary>
/// Asks for a password-reset mail. The answer is the same page whatever was typed (see
/// <see cref="PasswordReset"/>); only the per-address limit is visible, as it says nothing about accounts.
/// </summary>
internal sealed class ForgotPasswordModel(PasswordReset resets, MailSender mail, RateLimiters limits, IOptions<AccountLinkOptions> links) : PageModel
{
    [BindProperty]
    public LoginInput Input { get; set; } = new();

    public bool MailAvailable => mail.IsEnabled;

    public bool Requested { get; private set; }

    public string? ErrorMessage { get; private set; }

    public string LinkLifetime => AccountMails.Describe(links.Value.PasswordResetLinkLifetime);

    public async Task<IActionResult> OnPostAsync()
    {
        if (!MailAvailable)
        {
            return Page();
        }
        if (!ModelState.IsValid)
        {
            ErrorMessage = Texts.Get("Enter your username or e-mail address.");
            return Page();
        }
        using (var lease = limits.AcquirePasswordResetByAddress(HttpContext))
        {
            if (!lease.IsAcquired)
            {
                var seconds = RateLimitResponses.Refuse(Response, lease);
                ErrorMessage = Texts.Get("Too many requests. Wait {0}, then try again.", RateLimitResponses.DescribeForReader(seconds));
                return Page();
            }
        }
        // Not cancelled with the request: a request that was made is handled and recorded.
        await resets.RequestAsync(Input.Login, CancellationToken.None);
        Requested = true;
        return Page();
    }

    public sealed class LoginInput
    {
        [Required, StringLength(256)]
        public string Login { get; set; } = "";
    }
}
