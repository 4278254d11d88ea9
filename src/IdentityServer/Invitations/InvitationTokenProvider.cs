using IdentityServer.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IdentityServer.Invitations;

/// <summary>
/// Identity's data-protection token provider for invitation links only, with its own lifetime
/// (<c>Accounts:InvitationLinkLifetime</c>) and its own protector purpose, so an invitation never
/// opens a reset or verification page, nor the other way round. Like every such token it is bound
/// to the security stamp: setting the password (accepting) or sending a new invitation renews the
/// stamp and kills every earlier link.
/// </summary>
internal sealed class InvitationTokenProvider(
    IDataProtectionProvider dataProtection,
    IOptions<InvitationTokenProvider.LinkOptions> options,
    ILogger<DataProtectorTokenProvider<ApplicationUser>> logger)
    : DataProtectorTokenProvider<ApplicationUser>(dataProtection, options, logger)
{
    public const string ProviderName = "InvitationLink";

    /// <summary>The purpose the token is made for and checked against.</summary>
    public const string Purpose = "AcceptInvitation";

    public sealed class LinkOptions : DataProtectionTokenProviderOptions
    {
        public LinkOptions() => Name = ProviderName;
    }
}
