using IdentityServer.Localization;
using IdentityServer.Account;
using IdentityServer.Email;

namespace IdentityServer.Admin;

/// <summary>The words of mails an administrator has sent.</summary>
internal static class AdminMails
{
    public static MailTemplate PasswordReset(string userName, Uri link, TimeSpan lifetime) => new(
        Texts.Get("Choose a new password"),
        [
            Texts.Get("An administrator sent you this link to choose a new password for the account {0}.", userName),
            Texts.Get("It works once, for {0}. Choosing a new password signs the account out everywhere.", AccountMails.Describe(lifetime)),
        ],
        Texts.Get("Choose a new password"), link,
        Texts.Get("If you did not expect this, ignore this mail: your password stays as it is."));
}
