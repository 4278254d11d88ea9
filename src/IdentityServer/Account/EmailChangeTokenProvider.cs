using IdentityServer.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IdentityServer.Account;

/// <summary>
/// Identity's data-protection token provider for change-of-address links only, with its own lifetime
/// (<c>Accounts:EmailChangeLinkLifetime</c>) and its own protector purpose, so a token made for one
/// purpose never opens another.
/// </summary>
internal sealed class EmailChangeTokenProvider(
    IDataProtectionProvider dataProtection,
    IOptions<EmailChangeTokenProvider.LinkOptions> options,
    ILogger<DataProtectorTokenProvider<ApplicationUser>> logger)
    : DataProtectorTokenProvider<ApplicationUser>(dataProtection, options, logger)
{
    public const string ProviderName = "EmailChangeLink";

    public sealed class LinkOptions : DataProtectionTokenProviderOptions
    {
        public LinkOptions() => Name = ProviderName;
    }
}
