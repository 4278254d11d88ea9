using IdentityServer.Audit;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>Records a security event when a client revokes a token at the revocation endpoint (RFC 7009).</summary>
internal sealed class RevocationAuditHandler(AuditLog audit) : IOpenIddictServerHandler<HandleRevocationRequestContext>
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
    [
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleRevocationRequestContext>()
            .UseScopedHandler<RevocationAuditHandler>()
            // After OpenIddict has revoked the token.
            .SetOrder(HandlerOrder.AfterOpenIddict)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
    ];

    public async ValueTask HandleAsync(HandleRevocationRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.IsRejected || context.GenericTokenPrincipal is not { } principal)
        {
            return;
        }
        var subject = principal.GetClaim(Claims.Subject);
        var isUser = subject is not null && subject != context.Request?.ClientId;
        await audit.RecordAsync(SecurityEventTypes.TokenRevoked,
            userId: isUser ? subject : null,
            sessionId: principal.GetClaim(Sessions.SessionService.SessionIdClaim),
            clientId: context.Request?.ClientId,
            actor: context.Request?.ClientId,
            detail: principal.GetTokenType(),
            cancellationToken: context.CancellationToken);
    }
}
