using System.Globalization;
using IdentityServer.Email;

namespace IdentityServer.Account;

/// <summary>The words of every mail about an account. Links and addresses come in as plain values.</summary>
internal static class AccountMails
{
    public const string PasswordResetPurpose = "password_reset";
    public const string VerificationPurpose = "email_verification";
    public const string ChangePurpose = "email_change";
    public const string AddressInUsePurpose = "email_in_use";
    public const string ChangedNoticePurpose = "email_changed_notice";

    public static MailTemplate PasswordReset(string userName, Uri link, TimeSpan lifetime) => new(
        "Reset your password",
        [
            $"Someone, probably you, asked to reset the password of the account {userName}.",
            $"The link below lets you choose a new password. It works once, for {Describe(lifetime)}. Resetting the password signs the account out everywhere.",
        ],
        "Choose a new password", link,
        "If you did not ask for this, ignore this mail: your password stays as it is.");

    public static MailTemplate Verification(string userName, Uri link, TimeSpan lifetime) => new(
        "Verify your e-mail address",
        [$"Confirm that this address belongs to the account {userName}. The link works for {Describe(lifetime)}."],
        "Verify this address", link,
        "If you do not know this account, ignore this mail.");

    public static MailTemplate Change(string userName, string newAddress, Uri link, TimeSpan lifetime) => new(
        "Confirm your new e-mail address",
        [
            $"The account {userName} asked to use {newAddress} as its e-mail address from now on.",
            $"The account keeps its old address until you follow the link below. It works once, for {Describe(lifetime)}. Changing the address signs the account out on other devices.",
        ],
        "Use this address", link,
        "If you did not ask for this, ignore this mail: nothing changes.");

    public static MailTemplate AddressInUse() => new(
        "This e-mail address is already in use",
        [
            "Someone asked to add this address to an account, but it already belongs to another account, so nothing was changed.",
            "If that was you, sign in with the account that has this address, or use \"Forgot password\" on the sign-in page.",
        ],
        Closing: "If you did not ask for this, ignore this mail.");

    public static MailTemplate ChangedNotice(string userName, string newAddress) => new(
        "Your e-mail address was changed",
        [$"The e-mail address of the account {userName} was changed to {newAddress}. Mail about the account now goes there."],
        Closing: "If you did not do this, contact your administrator at once.");

    public static MailTemplate SecurityNotice(string userName, string what, DateTimeOffset when) => new(
        "A sign-in method of your account changed",
        [
            $"{what} for the account {userName}, on {when.UtcDateTime.ToString("d MMMM yyyy 'at' HH:mm 'UTC'", CultureInfo.InvariantCulture)}.",
            "If that was you, there is nothing to do.",
        ],
        Closing: "If it was not you, someone may know your password: reset it with \"Forgot password\" on the sign-in page, check the Security page and your sessions, and tell your administrator.");

    /// <summary>"1 hour", "30 minutes", "2 days": lifetimes as people read them.</summary>
    public static string Describe(TimeSpan lifetime) => lifetime switch
    {
        { TotalDays: >= 1 } when lifetime.TotalDays % 1 == 0 => Plural((int)lifetime.TotalDays, "day"),
        { TotalHours: >= 1 } when lifetime.TotalHours % 1 == 0 => Plural((int)lifetime.TotalHours, "hour"),
        { TotalMinutes: >= 1 } => Plural((int)Math.Round(lifetime.TotalMinutes), "minute"),
        _ => Plural(Math.Max(1, (int)Math.Round(lifetime.TotalSeconds)), "second"),
    };

    private static string Plural(int count, string unit) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + unit + (count == 1 ? "" : "s");
}
