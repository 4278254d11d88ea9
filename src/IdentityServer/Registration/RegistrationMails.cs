using IdentityServer.Localization;
using IdentityServer.Email;

namespace IdentityServer.Registration;

/// <summary>The words of the mail to an address someone tried to register again.</summary>
internal static class RegistrationMails
{
    public const string AddressInUsePurpose = "registration_address_in_use";

    public static MailTemplate AddressInUse(string userName) => new(
        Texts.Get("Someone tried to register with your address"),
        [
            Texts.Get("Someone tried to create a new account with this e-mail address. It already belongs to your account, so no account was created."),
            Texts.Get("If that was you: your account's user name is {0}. Sign in with it, or use \"Forgot password\" on the sign-in page.", userName),
        ],
        Closing: Texts.Get("If it was not you, ignore this mail: nothing changed."));
}
