using System.Collections.Immutable;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.StepUp;

/// <summary>
/// Advertises the supported <c>acr</c> values in the discovery document (OpenID Connect Discovery
/// 1.0, section 3: <c>acr_values_supported</c>): OpenIddict does not know them.
/// </summary>
internal sealed class AcrDiscoveryHandler : IOpenIddictServerHandler<HandleConfigurationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
            .UseSingletonHandler<AcrDiscoveryHandler>()
            // After OpenIddict's own metadata handlers.
            .SetOrder(Authorization.HandlerOrder.AfterOpenIddict)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(HandleConfigurationRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Metadata[Metadata.AcrValuesSupported] = ImmutableArray.CreateRange<string?>(AuthenticationLevels.Supported);
        return ValueTask.CompletedTask;
    }
}
