using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using MimeKit;

namespace IdentityServer.Email;

/// <summary>
/// Whether mail can be addressed to a string. The <c>[EmailAddress]</c> attribute Identity and the
/// pages use checks for one '@' only; MimeKit refuses more (<c>a..b@example.com</c>,
/// <c>"a@example.com</c>), and a mail built for such an address would fail where no answer but a
/// server error is left. So an address is checked against MimeKit itself before any mail or account
/// takes it.
/// </summary>
internal sealed class MailAddresses : IUserValidator<ApplicationUser>
{
    public static bool CanSendTo(string? address)
    {
        if (string.IsNullOrWhiteSpace(address))
        {
            return false;
        }
        try
        {
            // What MailTemplate.ToMessage does with the address.
            _ = new MailboxAddress(null, address);
            return true;
        }
        catch (ParseException)
        {
            return false;
        }
    }

    /// <summary>Identity's check of every account write (seed, admin, registration, change of address).</summary>
    public Task<IdentityResult> ValidateAsync(UserManager<ApplicationUser> manager, ApplicationUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return Task.FromResult(user.Email is null || CanSendTo(user.Email)
            ? IdentityResult.Success
            : IdentityResult.Failed(new IdentityError { Code = "InvalidEmail", Description = Localization.Texts.Get("The e-mail address cannot receive mail (it is not a valid address).") }));
    }
}
