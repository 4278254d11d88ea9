using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// Pushed authorization requests (RFC 9126) at <c>/connect/par</c>, by OpenIddict. OpenIddict lets a client
/// push only with a permission of its own; here every client allowed at the authorization endpoint may
/// push (as in Keycloak and Duende IdentityServer), so that a client whose library pushes whenever the
/// discovery document offers it (ASP.NET Core's OpenID Connect handler does by default) keeps working
/// without a new permission. A client registered with <c>RequirePushedAuthorization</c> must push
/// (OpenIddict's requirement <see cref="Requirements.Features.PushedAuthorizationRequests"/>).
/// </summary>
internal static class PushedAuthorization
{
    /// <summary>OpenIddict's permission check this replaces.</summary>
    public static OpenIddictServerHandlerDescriptor Replaced => OpenIddictServerHandlers.Authentication.ValidatePushedEndpointPermissions.Descriptor;

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidatePushedAuthorizationRequestContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireClientIdParameter>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireDegradedModeDisabled>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireEndpointPermissionsEnabled>()
            .UseScopedHandler<RequireAuthorizationPermission>()
            .SetOrder(Replaced.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    internal sealed class RequireAuthorizationPermission(IOpenIddictApplicationManager applications)
        : IOpenIddictServerHandler<ValidatePushedAuthorizationRequestContext>
    {
        public async ValueTask HandleAsync(ValidatePushedAuthorizationRequestContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            // OpenIddict has authenticated the client before this runs.
            if (await applications.FindByClientIdAsync(context.ClientId!, context.CancellationToken) is { } application
                && await applications.HasPermissionAsync(application, Permissions.Endpoints.Authorization, context.CancellationToken))
            {
                return;
            }
            context.Reject(
                error: Errors.UnauthorizedClient,
                description: "This client application is not allowed to use the authorization endpoint.");
        }
    }
}
