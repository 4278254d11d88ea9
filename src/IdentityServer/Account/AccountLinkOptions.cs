using System.ComponentModel.DataAnnotations;

namespace IdentityServer.Account;

/// <summary>
/// How long the links the server mails stay valid, bound from the <c>Accounts</c> section. Each
/// purpose has its own token provider and lifetime (Identity's one default provider would give
/// every purpose the same). A link also dies when the account's security stamp changes: a password
/// reset, password change or change of address ends every reset link sent before it.
/// </summary>
public sealed class AccountLinkOptions
{
    public const string Section = "Accounts";

    /// <summary>The forgot-password link.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan PasswordResetLinkLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The link that verifies the account's current address.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan EmailVerificationLinkLifetime { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The link, sent to a new address, that makes it the account's address.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan EmailChangeLinkLifetime { get; set; } = TimeSpan.FromDays(1);
}
