using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.BackchannelLogout;

/// <summary>
/// Advertises back-channel logout in the discovery document (Back-Channel Logout 1.0, section 2.1):
/// OpenIddict does not implement it, so it does not know to say so.
/// </summary>
internal sealed class BackchannelLogoutDiscoveryHandler : IOpenIddictServerHandler<HandleConfigurationRequestContext>
{
    public const string Supported = "backchannel_logout_supported";

    /// <summary>Logout tokens carry <c>sid</c>, and ID tokens carry the same <c>sid</c>.</summary>
    public const string SessionSupported = "backchannel_logout_session_supported";

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
            .UseSingletonHandler<BackchannelLogoutDiscoveryHandler>()
            // After OpenIddict's own metadata handlers.
            .SetOrder(Authorization.HandlerOrder.AfterOpenIddict)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(HandleConfigurationRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Metadata[Supported] = true;
        context.Metadata[SessionSupported] = true;
        return ValueTask.CompletedTask;
    }
}
