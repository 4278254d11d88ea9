using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// RFC 6749 (4.1.2.1, 5.2) names <c>invalid_scope</c> for a scope the client may not request;
/// OpenIddict answers <c>invalid_request</c> there. This corrects the code before the response is sent.
/// </summary>
internal sealed class ScopeErrorHandler :
    IOpenIddictServerHandler<ApplyTokenResponseContext>,
    IOpenIddictServerHandler<ApplyAuthorizationResponseContext>
{
    // "This client application is not allowed to use the specified scope."
    private const string ScopeNotAllowed = "ID2051";

    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
    [
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
            .UseSingletonHandler<ScopeErrorHandler>().SetOrder(int.MinValue + 40_000).SetType(OpenIddictServerHandlerType.Custom).Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyAuthorizationResponseContext>()
            .UseSingletonHandler<ScopeErrorHandler>().SetOrder(int.MinValue + 40_000).SetType(OpenIddictServerHandlerType.Custom).Build(),
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

    private static void Correct(OpenIddictResponse response)
    {
        if (response.Error == Errors.InvalidRequest && response.ErrorUri?.EndsWith(ScopeNotAllowed, StringComparison.Ordinal) == true)
        {
            response.Error = Errors.InvalidScope;
        }
    }
}
