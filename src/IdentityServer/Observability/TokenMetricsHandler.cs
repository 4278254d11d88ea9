using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Observability;

/// <summary>Counts the tokens of every successful token response, whichever grant produced it.</summary>
internal sealed class TokenMetricsHandler(IdentityServerMetrics metrics) : IOpenIddictServerHandler<ApplyTokenResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
            .UseSingletonHandler<TokenMetricsHandler>()
            // Before OpenIddict writes the response (which ends the event's processing).
            .SetOrder(Authorization.HandlerOrder.CountTokens)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ApplyTokenResponseContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.Response;
        if (string.IsNullOrEmpty(response.Error))
        {
            var grantType = context.Request?.GrantType;
            if (response.AccessToken is not null)
            {
                metrics.TokenIssued(grantType, Parameters.AccessToken);
            }
            if (response.RefreshToken is not null)
            {
                metrics.TokenIssued(grantType, Parameters.RefreshToken);
            }
            if (response.IdToken is not null)
            {
                metrics.TokenIssued(grantType, Parameters.IdToken);
            }
        }
        return ValueTask.CompletedTask;
    }
}
