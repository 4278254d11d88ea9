using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// A client_credentials request acts for no user, so it may not ask for <c>openid</c> (an ID token
/// would assert the client as if it were a signed-in user) or <c>offline_access</c> (RFC 6749 4.4.3:
/// no refresh token here; the client just asks again). OpenIddict would issue both when the client
/// is allowed the scope; this refuses them with <c>invalid_scope</c> (RFC 6749 5.2).
/// </summary>
internal sealed class ClientCredentialsScopePolicy(IOpenIddictApplicationManager applications) : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    // After the client is authenticated and allowed the token endpoint (so a wrong secret is still
    // invalid_client), and before OpenIddict's grant-type check, which would answer offline_access
    // with invalid_request for a client without the refresh_token grant.
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseScopedHandler<ClientCredentialsScopePolicy>()
            .SetOrder(OpenIddictServerHandlers.Exchange.ValidateEndpointPermissions.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var refused = !context.Request.IsClientCredentialsGrantType() ? null
            : context.Request.HasScope(Scopes.OpenId) ? Scopes.OpenId
            : context.Request.HasScope(Scopes.OfflineAccess) ? Scopes.OfflineAccess
            : null;
        // A client that may not use client_credentials at all is left to OpenIddict's grant-type
        // check: unauthorized_client says more than the scope would.
        if (refused is null || context.ClientId is not { } clientId
            || await applications.FindByClientIdAsync(clientId, context.CancellationToken) is not { } application
            || !await applications.HasPermissionAsync(application, Permissions.GrantTypes.ClientCredentials, context.CancellationToken))
        {
            return;
        }
        context.Reject(Errors.InvalidScope, $"The '{refused}' scope cannot be requested with the client_credentials grant: it acts for no user.");
    }
}
