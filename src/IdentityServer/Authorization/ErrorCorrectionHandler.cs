using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// Where OpenIddict's error code differs from the one RFC 6749 names, this corrects it before the
/// response is sent: <c>invalid_scope</c> for a scope the client may not request (4.1.2.1, 5.2; at the
/// device authorization endpoint RFC 8628 3.2 points to the same 5.2 codes, at the pushed-authorization
/// endpoint RFC 9126 2.3 to 4.1.2.1's), and <c>invalid_client</c>
/// when a confidential client sends no credentials at all (5.2); at the authorization endpoint,
/// <c>invalid_request_uri</c> (RFC 9101 6.2, which RFC 9126 4 refers to) instead of OpenIddict's
/// <c>invalid_token</c> or <c>invalid_request</c> for a pushed request's <c>request_uri</c> that is unknown,
/// expired, used already or another client's; <c>invalid_client</c> for a client assertion whose claims
/// OpenIddict refuses (it answers <c>invalid_request</c> or <c>invalid_grant</c>); and <c>invalid_target</c>
/// (RFC 8693 2.2.2, RFC 8707 2) for an <c>audience</c> or <c>resource</c> the client may not ask for.
/// </summary>
internal sealed class ErrorCorrectionHandler :
    IOpenIddictServerHandler<ProcessErrorContext>,
    IOpenIddictServerHandler<ApplyTokenResponseContext>,
    IOpenIddictServerHandler<ApplyAuthorizationResponseContext>,
    IOpenIddictServerHandler<ApplyDeviceAuthorizationResponseContext>,
    IOpenIddictServerHandler<ApplyPushedAuthorizationResponseContext>
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
    [
        // Before OpenIddict copies the error into the response (the error page reads it there).
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessErrorContext>()
            .UseSingletonHandler<ErrorCorrectionHandler>().SetOrder(HandlerOrder.CorrectRequestUriError).SetType(OpenIddictServerHandlerType.Custom).Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
            .UseSingletonHandler<ErrorCorrectionHandler>().SetOrder(HandlerOrder.CorrectErrorCodes).SetType(OpenIddictServerHandlerType.Custom).Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyAuthorizationResponseContext>()
            .UseSingletonHandler<ErrorCorrectionHandler>().SetOrder(HandlerOrder.CorrectErrorCodes).SetType(OpenIddictServerHandlerType.Custom).Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyDeviceAuthorizationResponseContext>()
            .UseSingletonHandler<ErrorCorrectionHandler>().SetOrder(HandlerOrder.CorrectErrorCodes).SetType(OpenIddictServerHandlerType.Custom).Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyPushedAuthorizationResponseContext>()
            .UseSingletonHandler<ErrorCorrectionHandler>().SetOrder(HandlerOrder.CorrectErrorCodes).SetType(OpenIddictServerHandlerType.Custom).Build(),
    ];

    public ValueTask HandleAsync(ProcessErrorContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // RFC 6749 5.2: a client that fails to authenticate is invalid_client, whichever claim of its assertion failed.
        if (!string.IsNullOrEmpty(context.Request?.ClientAssertion) && context.ErrorUri is { } uri
            && (OpenIddictErrorIds.Is(uri, OpenIddictErrorIds.AssertionClaimMalformed) || OpenIddictErrorIds.Is(uri, OpenIddictErrorIds.AssertionClaimMissing)
                || OpenIddictErrorIds.Is(uri, OpenIddictErrorIds.AssertionClaimMismatch)))
        {
            context.Error = Errors.InvalidClient;
        }
        // The request_uri could not be used: its request token did not validate (unknown, expired, used), or
        // it was pushed by another client. Other errors of such a request keep their code.
        if (context.EndpointType == OpenIddictServerEndpointType.Authorization && context.Request is { RequestUri.Length: > 0 }
            && (context.Error == Errors.InvalidToken || (context.Error == Errors.InvalidRequest && OpenIddictErrorIds.Is(context.ErrorUri, OpenIddictErrorIds.PushedRequestMismatch))))
        {
            context.Error = Errors.InvalidRequestUri;
            context.ErrorDescription = "The request_uri is unknown, has expired, has been used already or belongs to another client.";
        }
        return ValueTask.CompletedTask;
    }

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

    public ValueTask HandleAsync(ApplyPushedAuthorizationResponseContext context)
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
        else if (OpenIddictErrorIds.Is(uri, OpenIddictErrorIds.AudienceNotAllowed) || OpenIddictErrorIds.Is(uri, OpenIddictErrorIds.ResourceNotAllowed))
        {
            // RFC 8693 2.2.2 (and RFC 8707 2): no token for a target the client may not name.
            response.Error = Errors.InvalidTarget;
        }
    }
}
