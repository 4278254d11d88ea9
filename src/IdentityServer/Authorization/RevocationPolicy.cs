using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// Who may revoke what (RFC 7009 2.1): a client may revoke only tokens issued to it, that is tokens
/// whose presenter (<c>client_id</c>/<c>azp</c>) is the authenticated client.
/// OpenIddict's own check (<see cref="OpenIddictServerHandlers.Revocation.ValidateAuthorizedParty"/>)
/// looks at an access token only when it carries an audience, and then also lets the audience revoke
/// it: an access token without audience (scope <c>openid</c> only, or a machine token without an API
/// scope) could be revoked by any client, public ones included.
/// A token of another client is answered like an invalid token, as OpenIddict answers for tokens with
/// an audience: 200 with an empty body and nothing revoked (RFC 7009 2.2, "invalid tokens do not cause
/// an error response"), which also tells the caller nothing about whether the token exists.
/// </summary>
internal sealed partial class RevocationPolicy(ILogger<RevocationPolicy> logger) : IOpenIddictServerHandler<ValidateRevocationRequestContext>
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
    [
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateRevocationRequestContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireClientIdParameter>()
            .UseSingletonHandler<RevocationPolicy>()
            // Right after OpenIddict's own authorized-party check, before anything is revoked.
            .SetOrder(OpenIddictServerHandlers.Revocation.ValidateAuthorizedParty.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
    ];

    public ValueTask HandleAsync(ValidateRevocationRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.GenericTokenPrincipal is not { } principal || principal.HasPresenter(context.ClientId!))
        {
            return ValueTask.CompletedTask;
        }

        LogRefused(logger, context.ClientId, principal.GetTokenType());
        // invalid_token: OpenIddict's NormalizeErrorResponse turns it into the empty 200 answer.
        OpenIddictErrorIds.Reject(context, Errors.InvalidToken, OpenIddictErrorIds.RevocationNotAllowed);
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning,
        Message = "Revocation refused: client {ClientId} presented a {TokenType} that was not issued to it; nothing was revoked.")]
    private static partial void LogRefused(ILogger logger, string? clientId, string? tokenType);
}
