using System.ComponentModel.DataAnnotations;

namespace IdentityServer.Invitations;

/// <summary>How long an invitation link works, bound from the <c>Accounts</c> section.</summary>
public sealed class InvitationOptions
{
    public const string Section = "Accounts";

    /// <summary>
    /// The link a new user follows to choose a password. Longer than a reset link: people are
    /// invited before they are expecting it, and a weekend should not kill the link.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan InvitationLinkLifetime { get; set; } = TimeSpan.FromDays(3);
}
