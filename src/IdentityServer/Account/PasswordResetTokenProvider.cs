using IdentityServer.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IdentityServer.Account;

/// <summary>
/// Identity's data-protection token provider for password-reset links only, with its own lifetime
/// (<c>Accounts:PasswordResetLinkLifetime</c>) and its own protector purpose, so a token made for one
/// purpose never opens another.
/// </summary>
internal sealed class PasswordResetTokenProvider(
    IDataProtectionProvider dataProtection,
    IOptions<PasswordResetTokenProvider.LinkOptions> options,
    ILogger<DataProtectorTokenProvider<ApplicationUser>> logger)
    : DataProtectorTokenProvider<ApplicationUser>(dataProtection, options, logger)
{
    public const string ProviderName = "PasswordResetLink";

    public sealed class LinkOptions : DataProtectionTokenProviderOptions
    {
        public LinkOptions() => Name = ProviderName;
    }
}
