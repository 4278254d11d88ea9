using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IdentityServer.Invitations;

/// <summary>Invitations to accounts an administrator created: the token provider with its lifetime, and the service.</summary>
internal static class InvitationsSetup
{
    public static WebApplicationBuilder AddInvitations(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<InvitationOptions>()
            .Bind(builder.Configuration.GetSection(InvitationOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        new IdentityBuilder(typeof(ApplicationUser), typeof(IdentityRole), builder.Services)
            .AddTokenProvider<InvitationTokenProvider>(InvitationTokenProvider.ProviderName);
        builder.Services.AddOptions<InvitationTokenProvider.LinkOptions>()
            .Configure<IOptions<InvitationOptions>>(static (provider, invitations) => provider.TokenLifespan = invitations.Value.InvitationLinkLifetime);
        builder.Services.AddScoped<Invitation>();
        return builder;
    }
}
