using IdentityServer.Localization;
using IdentityServer.Account;
using IdentityServer.Email;

namespace IdentityServer.Invitations;

/// <summary>The words of the invitation mail.</summary>
internal static class InvitationMails
{
    public const string Purpose = "invitation";

    public static MailTemplate Invitation(string userName, Uri link, TimeSpan lifetime) => new(
        Texts.Get("You have been invited"),
        [
            Texts.Get("An administrator created the account {0} for you.", userName),
            Texts.Get("Follow the link below to choose your password. It works once, for {0}; after that, ask your administrator for a new invitation.", AccountMails.Describe(lifetime)),
        ],
        Texts.Get("Choose your password"), link,
        Texts.Get("If you did not expect this, ignore this mail: nobody can sign in to the account until a password is chosen."));
}
