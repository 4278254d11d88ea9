using System.Globalization;
using IdentityServer.Email;
using IdentityServer.Localization;

namespace IdentityServer.Account;

/// <summary>
/// The words of every mail about an account, in the language of the request that sends it (the
/// reader's own, as far as this server knows it). Links and addresses come in as plain values.
/// </summary>
internal static class AccountMails
{
    public const string PasswordResetPurpose = "password_reset";
    public const string VerificationPurpose = "email_verification";
    public const string ChangePurpose = "email_change";
    public const string AddressInUsePurpose = "email_in_use";
    public const string ChangedNoticePurpose = "email_changed_notice";

    public static MailTemplate PasswordReset(string userName, Uri link, TimeSpan lifetime) => new(
        Texts.Get("Reset your password"),
        [
            Texts.Get("Someone, probably you, asked to reset the password of the account {0}.", userName),
            Texts.Get("The link below lets you choose a new password. It works once, for {0}. Resetting the password signs the account out everywhere.", Describe(lifetime)),
        ],
        Texts.Get("Choose a new password"), link,
        Texts.Get("If you did not ask for this, ignore this mail: your password stays as it is."));

    public static MailTemplate Verification(string userName, Uri link, TimeSpan lifetime) => new(
        Texts.Get("Verify your e-mail address"),
        [Texts.Get("Confirm that this address belongs to the account {0}. The link works for {1}.", userName, Describe(lifetime))],
        Texts.Get("Verify this address"), link,
        Texts.Get("If you do not know this account, ignore this mail."));

    public static MailTemplate Change(string userName, string newAddress, Uri link, TimeSpan lifetime) => new(
        Texts.Get("Confirm your new e-mail address"),
        [
            Texts.Get("The account {0} asked to use {1} as its e-mail address from now on.", userName, newAddress),
            Texts.Get("The account keeps its old address until you follow the link below. It works once, for {0}. Changing the address signs the account out on other devices.", Describe(lifetime)),
        ],
        Texts.Get("Use this address"), link,
        Texts.Get("If you did not ask for this, ignore this mail: nothing changes."));

    public static MailTemplate AddressInUse() => new(
        Texts.Get("This e-mail address is already in use"),
        [
            Texts.Get("Someone asked to add this address to an account, but it already belongs to another account, so nothing was changed."),
            Texts.Get("If that was you, sign in with the account that has this address, or use \"Forgot password\" on the sign-in page."),
        ],
        Closing: Texts.Get("If you did not ask for this, ignore this mail."));

    public static MailTemplate ChangedNotice(string userName, string newAddress) => new(
        Texts.Get("Your e-mail address was changed"),
        [Texts.Get("The e-mail address of the account {0} was changed to {1}. Mail about the account now goes there.", userName, newAddress)],
        Closing: Texts.Get("If you did not do this, contact your administrator at once."));

    public static MailTemplate SecurityNotice(string userName, string what, DateTimeOffset when) => new(
        Texts.Get("A sign-in method of your account changed"),
        [
            Texts.Get("{0} for the account {1}, on {2} at {3} UTC.", what, userName,
                when.UtcDateTime.ToString("D", CultureInfo.CurrentCulture), when.UtcDateTime.ToString("HH:mm", CultureInfo.InvariantCulture)),
            Texts.Get("If that was you, there is nothing to do."),
        ],
        Closing: Texts.Get("If it was not you, someone may know your password: reset it with \"Forgot password\" on the sign-in page, check the Security page and your sessions, and tell your administrator."));

    /// <summary>"1 hour", "30 minutes", "2 days": lifetimes as people read them, in their language.</summary>
    public static string Describe(TimeSpan lifetime) => lifetime switch
    {
        { TotalDays: >= 1 } when lifetime.TotalDays % 1 == 0 => Texts.Plural((int)lifetime.TotalDays, "{0} day", "{0} days"),
        { TotalHours: >= 1 } when lifetime.TotalHours % 1 == 0 => Texts.Plural((int)lifetime.TotalHours, "{0} hour", "{0} hours"),
        { TotalMinutes: >= 1 } => Texts.Plural((int)Math.Round(lifetime.TotalMinutes), "{0} minute", "{0} minutes"),
        _ => Texts.Plural(Math.Max(1, (int)Math.Round(lifetime.TotalSeconds)), "{0} second", "{0} seconds"),
    };
}
