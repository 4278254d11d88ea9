using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IdentityServer.Account;

/// <summary>
/// The account flows that work through mailed links (forgot password, e-mail verification, change
/// of address): one Identity token provider per purpose, each with its lifetime from the
/// <c>Accounts</c> section, the services behind the pages, and the link builder.
/// </summary>
internal static class AccountLinksSetup
{
    public static WebApplicationBuilder AddAccountLinks(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AccountLinkOptions>()
            .Bind(builder.Configuration.GetSection(AccountLinkOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        new IdentityBuilder(typeof(ApplicationUser), typeof(IdentityRole), builder.Services)
            .AddTokenProvider<PasswordResetTokenProvider>(PasswordResetTokenProvider.ProviderName)
            .AddTokenProvider<EmailVerificationTokenProvider>(EmailVerificationTokenProvider.ProviderName)
            .AddTokenProvider<EmailChangeTokenProvider>(EmailChangeTokenProvider.ProviderName);
        builder.Services.AddOptions<PasswordResetTokenProvider.LinkOptions>()
            .Configure<IOptions<AccountLinkOptions>>(static (provider, links) => provider.TokenLifespan = links.Value.PasswordResetLinkLifetime);
        builder.Services.AddOptions<EmailVerificationTokenProvider.LinkOptions>()
            .Configure<IOptions<AccountLinkOptions>>(static (provider, links) => provider.TokenLifespan = links.Value.EmailVerificationLinkLifetime);
        builder.Services.AddOptions<EmailChangeTokenProvider.LinkOptions>()
            .Configure<IOptions<AccountLinkOptions>>(static (provider, links) => provider.TokenLifespan = links.Value.EmailChangeLinkLifetime);
        builder.Services.Configure<IdentityOptions>(static options =>
        {
            options.Tokens.PasswordResetTokenProvider = PasswordResetTokenProvider.ProviderName;
            options.Tokens.EmailConfirmationTokenProvider = EmailVerificationTokenProvider.ProviderName;
            options.Tokens.ChangeEmailTokenProvider = EmailChangeTokenProvider.ProviderName;
        });

        builder.Services.AddScoped<AccountLinks>();
        builder.Services.AddScoped<PasswordReset>();
        builder.Services.AddScoped<AccountEmail>();
        builder.Services.AddScoped<SecurityNotices>();
        return builder;
    }
}
