using IdentityServer.Account;
using IdentityServer.Email;

namespace IdentityServer.Admin;

/// <summary>The words of mails an administrator has sent.</summary>
internal static class AdminMails
{
    public static MailTemplate PasswordReset(string userName, Uri link, TimeSpan lifetime) => new(
        "Choose a new password",
        [
            $"An administrator sent you this link to choose a new password for the account {userName}.",
            $"It works once, for {AccountMails.Describe(lifetime)}. Choosing a new password signs the account out everywhere.",
        ],
        "Choose a new password", link,
        "If you did not expect this, ignore this mail: your password stays as it is.");
}
