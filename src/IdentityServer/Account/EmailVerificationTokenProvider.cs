using IdentityServer.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IdentityServer.Account;

/// <summary>
/// Identity's data-protection token provider for e-mail verification links only, with its own lifetime
/// (<c>Accounts:EmailVerificationLinkLifetime</c>) and its own protector purpose, so a token made for one
/// purpose never opens another.
/// </summary>
internal sealed class EmailVerificationTokenProvider(
    IDataProtectionProvider dataProtection,
    IOptions<EmailVerificationTokenProvider.LinkOptions> options,
    ILogger<DataProtectorTokenProvider<ApplicationUser>> logger)
    : DataProtectorTokenProvider<ApplicationUser>(dataProtection, options, logger)
{
    public const string ProviderName = "EmailVerificationLink";

    public sealed class LinkOptions : DataProtectionTokenProviderOptions
    {
        public LinkOptions() => Name = ProviderName;
    }
}
