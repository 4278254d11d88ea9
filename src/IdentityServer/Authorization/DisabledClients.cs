using System.Text.Json;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// A disabled client (its <see cref="Property"/> is <c>true</c>, set by an administrator or the seed
/// file's <c>Enabled: false</c>) is refused wherever OpenIddict identifies a client, once OpenIddict has
/// found and authenticated it: <c>invalid_client</c> at the token, introspection, revocation, device and
/// pushed-authorization endpoints, and the error page (never a redirect) at the authorization endpoint. Signing out through
/// it still works: ending a session never needs the client's good standing. Disabling also revokes the
/// client's grants and tokens (<see cref="Admin.ClientManagement"/>), so what it was given stops too.
/// </summary>
internal static partial class DisabledClients
{
    public const string Property = "disabled";

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .UseScopedHandler<RefuseDisabledClients>()
            // After OpenIddict has authenticated the client: only the client itself learns that it is disabled.
            .SetOrder(OpenIddictServerHandlers.ValidateClientSecret.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public static async ValueTask<bool> IsDisabledAsync(IOpenIddictApplicationManager applications, object application, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(applications);
        return (await applications.GetPropertiesAsync(application, cancellationToken)).TryGetValue(Property, out var value)
            && value.ValueKind == JsonValueKind.True;
    }

    [LoggerMessage(EventId = 4110, Level = LogLevel.Information, Message = "Request refused: client {ClientId} is disabled.")]
    private static partial void LogDisabled(ILogger logger, string? clientId);

    internal sealed class RefuseDisabledClients(IOpenIddictApplicationManager applications, ILogger<RefuseDisabledClients> logger)
        : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        public async ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (string.IsNullOrEmpty(context.ClientId)
                || context.EndpointType is OpenIddictServerEndpointType.EndSession or OpenIddictServerEndpointType.EndUserVerification or OpenIddictServerEndpointType.UserInfo
                || await applications.FindByClientIdAsync(context.ClientId, context.CancellationToken) is not { } application
                || !await IsDisabledAsync(applications, application, context.CancellationToken))
            {
                return;
            }
            LogDisabled(logger, context.ClientId);
            context.Reject(
                error: context.EndpointType is OpenIddictServerEndpointType.DeviceAuthorization or OpenIddictServerEndpointType.Introspection
                    or OpenIddictServerEndpointType.PushedAuthorization or OpenIddictServerEndpointType.Revocation or OpenIddictServerEndpointType.Token
                    ? Errors.InvalidClient
                    : Errors.InvalidRequest,
                description: "The client is disabled.");
        }
    }
}
