using IdentityServer.Audit;
using IdentityServer.Observability;
using IdentityServer.Sessions;
using Microsoft.AspNetCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// When a rotated refresh token or a used authorization code is presented again after the reuse
/// leeway, OpenIddict rejects it with <c>invalid_grant</c> and revokes every token of its grant.
/// This also ends the session the grant belongs to (so every other grant of that sign-in dies
/// too), and records the security event.
/// </summary>
internal sealed partial class ReuseDetectionHandler(
    SessionService sessions, AuditLog audit, IdentityServerMetrics metrics, ILogger<ReuseDetectionHandler> logger)
    : IOpenIddictServerHandler<ProcessErrorContext>
{
    /// <summary>Transaction property: the grant (authorization id) of the code or refresh token being validated.</summary>
    private const string PresentedGrantProperty = "idp:presented-grant";

    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
    [
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessErrorContext>()
            .UseScopedHandler<ReuseDetectionHandler>()
            .SetOrder(HandlerOrder.DetectReuse)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .UseSingletonHandler<RememberPresentedGrant>()
            // Just before OpenIddict looks up the token entry and finds it already redeemed.
            .SetOrder(OpenIddictServerHandlers.Protection.ValidateTokenEntry.Descriptor.Order - 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
    ];

    public async ValueTask HandleAsync(ProcessErrorContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.EndpointType != OpenIddictServerEndpointType.Token || context.ErrorUri is not { } uri
            || !(OpenIddictErrorIds.Is(uri, OpenIddictErrorIds.CodeRedeemed) || OpenIddictErrorIds.Is(uri, OpenIddictErrorIds.RefreshTokenRedeemed)))
        {
            return;
        }

        metrics.ReuseDetected(context.Request?.GrantType);
        LogReuse(logger, context.Request?.GrantType, context.Request?.ClientId,
            context.Transaction.GetHttpRequest()?.HttpContext.Connection.RemoteIpAddress?.ToString());
        var grant = context.Transaction.GetProperty<string>(PresentedGrantProperty);
        var sessionId = grant is null ? null : await sessions.FindByAuthorizationAsync(grant, context.CancellationToken);
        audit.Add(SecurityEventTypes.TokenReuseDetected, sessionId: sessionId, clientId: context.Request?.ClientId,
            actor: context.Request?.ClientId, detail: context.Request?.GrantType);
        if (sessionId is null || !await sessions.EndAsync(sessionId, SessionEndReasons.TokenReuse, SessionService.SystemActor, context.CancellationToken))
        {
            await audit.SaveAsync(context.CancellationToken);
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning,
        Message = "Security event: token reuse detected. A {GrantType} already redeemed was presented again by client {ClientId} from {RemoteIp}; every token of its grant and its session was revoked.")]
    private static partial void LogReuse(ILogger logger, string? grantType, string? clientId, string? remoteIp);

    private sealed class RememberPresentedGrant : IOpenIddictServerHandler<ValidateTokenContext>
    {
        public ValueTask HandleAsync(ValidateTokenContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (context.Principal is { } principal
                && (principal.HasTokenType(TokenTypeIdentifiers.RefreshToken) || principal.HasTokenType(TokenTypeIdentifiers.Private.AuthorizationCode))
                && (context.AuthorizationId ?? principal.GetAuthorizationId()) is { } grant)
            {
                context.Transaction.SetProperty(PresentedGrantProperty, grant);
            }
            return ValueTask.CompletedTask;
        }
    }
}
