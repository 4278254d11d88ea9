using IdentityServer.Account;
using IdentityServer.Email;

namespace IdentityServer.Invitations;

/// <summary>The words of the invitation mail.</summary>
internal static class InvitationMails
{
    public const string Purpose = "invitation";

    public static MailTemplate Invitation(string userName, Uri link, TimeSpan lifetime) => new(
        "You have been invited",
        [
            $"An administrator created the account {userName} for you.",
            $"Follow the link below to choose your password. It works once, for {AccountMails.Describe(lifetime)}; after that, ask your administrator for a new invitation.",
        ],
        "Choose your password", link,
        "If you did not expect this, ignore this mail: nobody can sign in to the account until a password is chosen.");
}
