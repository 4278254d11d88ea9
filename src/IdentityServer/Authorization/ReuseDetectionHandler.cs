using OpenIddict.Server;
using Microsoft.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// Records a security event when a rotated refresh token or a used authorization code is presented
/// again after the reuse leeway. OpenIddict has already rejected the request with
/// <c>invalid_grant</c> and revoked every token of the grant; this makes the attempt visible.
/// </summary>
internal sealed partial class ReuseDetectionHandler(ILogger<ReuseDetectionHandler> logger)
    : IOpenIddictServerHandler<ProcessErrorContext>
{
    // OpenIddict's error identifiers for "already redeemed" (authorization code, refresh token).
    private const string CodeRedeemed = "ID2010";
    private const string RefreshTokenRedeemed = "ID2012";

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessErrorContext>()
            .UseSingletonHandler<ReuseDetectionHandler>()
            .SetOrder(int.MinValue + 50_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessErrorContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.EndpointType == OpenIddictServerEndpointType.Token && context.ErrorUri is { } uri
            && (uri.EndsWith(CodeRedeemed, StringComparison.Ordinal) || uri.EndsWith(RefreshTokenRedeemed, StringComparison.Ordinal)))
        {
            LogReuse(logger, context.Request?.GrantType, context.Request?.ClientId,
                context.Transaction.GetHttpRequest()?.HttpContext.Connection.RemoteIpAddress?.ToString());
        }
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning,
        Message = "Security event: token reuse detected. A {GrantType} already redeemed was presented again by client {ClientId} from {RemoteIp}; every token of its grant was revoked.")]
    private static partial void LogReuse(ILogger logger, string? grantType, string? clientId, string? remoteIp);
}
