using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// Where OpenIddict's error code differs from the one RFC 6749 names, this corrects it before the
/// response is sent: <c>invalid_scope</c> for a scope the client may not request (4.1.2.1, 5.2; at the
/// device authorization endpoint RFC 8628 3.2 points to the same 5.2 codes), and <c>invalid_client</c>
/// when a confidential client sends no credentials at all (5.2).
/// </summary>
internal sealed class ErrorCorrectionHandler :
    IOpenIddictServerHandler<ApplyTokenResponseContext>,
    IOpenIddictServerHandler<ApplyAuthorizationResponseContext>,
    IOpenIddictServerHandler<ApplyDeviceAuthorizationResponseContext>
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
    [
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
            .UseSingletonHandler<ErrorCorrectionHandler>().SetOrder(HandlerOrder.CorrectErrorCodes).SetType(OpenIddictServerHandlerType.Custom).Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyAuthorizationResponseContext>()
            .UseSingletonHandler<ErrorCorrectionHandler>().SetOrder(HandlerOrder.CorrectErrorCodes).SetType(OpenIddictServerHandlerType.Custom).Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyDeviceAuthorizationResponseContext>()
            .UseSingletonHandler<ErrorCorrectionHandler>().SetOrder(HandlerOrder.CorrectErrorCodes).SetType(OpenIddictServerHandlerType.Custom).Build(),
    ];

    public ValueTask HandleAsync(ApplyTokenResponseContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Correct(context.Response);
        return ValueTask.CompletedTask;
    }

    public ValueTask HandleAsync(ApplyAuthorizationResponseContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Correct(context.Response);
        return ValueTask.CompletedTask;
    }

    public ValueTask HandleAsync(ApplyDeviceAuthorizationResponseContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Correct(context.Response);
        return ValueTask.CompletedTask;
    }

    private static void Correct(OpenIddictResponse response)
    {
        if (response.Error != Errors.InvalidRequest || response.ErrorUri is not { } uri)
        {
            return;
        }
        if (OpenIddictErrorIds.Is(uri, OpenIddictErrorIds.ScopeNotAllowed))
        {
            response.Error = Errors.InvalidScope;
        }
        else if (OpenIddictErrorIds.Is(uri, OpenIddictErrorIds.ClientCredentialsMissing))
        {
            response.Error = Errors.InvalidClient;
        }
    }
}
