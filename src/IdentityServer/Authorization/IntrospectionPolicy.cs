using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// Who may introspect what (RFC 7662 2.1, 4):
/// <list type="bullet">
/// <item>Only confidential clients: a public client has no credential, so "authorization to access
/// the endpoint" would be nothing but a client id anyone can read. The seed refuses such a client;
/// this refuses one that got the permission another way, with <c>401 invalid_client</c> (2.3, RFC 6749 5.2).</item>
/// <item>An access token is described only to a client its <c>aud</c> names (the resource server it
/// is meant for) or to the client it was issued to; a refresh token only to the client it was issued
/// to. Anyone else gets <c>{"active":false}</c> and nothing more, as for an unknown token.</item>
/// </list>
/// OpenIddict's own check (<see cref="OpenIddictServerHandlers.Introspection.ValidateAuthorizedParty"/>)
/// applies the audience rule only to access tokens that carry an audience, so a token issued with
/// scope <c>openid</c> alone (or a machine token without an API scope) was described, subject included,
/// to every client allowed to introspect.
/// </summary>
internal static partial class IntrospectionPolicy
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
    [
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireIntrospectionRequest>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireClientIdParameter>()
            .UseScopedHandler<RefusePublicClients>()
            // Where OpenIddict decides whether the client type fits the credentials sent, and before
            // the token is even looked at (an invalid token would otherwise win with active:false).
            .SetOrder(OpenIddictServerHandlers.ValidateClientType.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateIntrospectionRequestContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireClientIdParameter>()
            .UseSingletonHandler<RequireAudienceOrPresenter>()
            .SetOrder(OpenIddictServerHandlers.Introspection.ValidateAuthorizedParty.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
    ];

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning,
        Message = "Introspection refused: {ClientId} is a public client and cannot authenticate to the introspection endpoint.")]
    private static partial void LogPublicClient(ILogger logger, string? clientId);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Information,
        Message = "Introspection answered active:false: client {ClientId} is neither an audience of this {TokenType} nor the client it was issued to.")]
    private static partial void LogNotForCaller(ILogger logger, string? clientId, string? tokenType);

    internal sealed class RefusePublicClients(IOpenIddictApplicationManager applications, ILogger<RefusePublicClients> logger)
        : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        public async ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            // OpenIddict has already refused unknown client ids, so the client exists.
            if (await applications.FindByClientIdAsync(context.ClientId!, context.CancellationToken) is { } application
                && await applications.HasClientTypeAsync(application, ClientTypes.Public, context.CancellationToken))
            {
                LogPublicClient(logger, context.ClientId);
                context.Reject(Errors.InvalidClient, "Public clients cannot use the introspection endpoint: they have no credentials to authenticate with.");
            }
        }
    }

    internal sealed class RequireAudienceOrPresenter(ILogger<RequireAudienceOrPresenter> logger)
        : IOpenIddictServerHandler<ValidateIntrospectionRequestContext>
    {
        public ValueTask HandleAsync(ValidateIntrospectionRequestContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (context.GenericTokenPrincipal is not { } principal)
            {
                return ValueTask.CompletedTask;
            }

            var clientId = context.ClientId!;
            var allowed = principal.HasPresenter(clientId)
                || (principal.HasTokenType(TokenTypeIdentifiers.AccessToken) && principal.HasAudience(clientId));
            if (!allowed)
            {
                LogNotForCaller(logger, clientId, principal.GetTokenType());
                // invalid_token: OpenIddict's NormalizeErrorResponse turns it into {"active":false}.
                OpenIddictErrorIds.Reject(context, Errors.InvalidToken, OpenIddictErrorIds.IntrospectionNotAllowed);
            }
            return ValueTask.CompletedTask;
        }
    }
}
