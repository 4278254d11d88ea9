using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// RFC 6749 4.1.2.1 (and OpenID Connect Core 3.1.2.6): once the client and its redirect_uri are
/// known to be valid, every authorization error goes back to the client's redirect_uri, with state
/// and iss (RFC 9207), in the requested response mode. OpenIddict redirects only the errors of a
/// request that passed its validation; one it refuses while validating (a bad response_type, scope,
/// prompt or max_age, missing PKCE, request=, a repeated parameter, ...) would be shown on our
/// error page. For those this handler makes the checks OpenIddict makes of the client and the
/// redirect_uri itself: client_id and redirect_uri each given once, a known client, the exact
/// registered redirect_uri. Only then does the error go to the client; an unknown or disabled client or an
/// unregistered, missing or malformed redirect_uri still gets our error page (a redirect to an
/// unchecked URI would make the server an open redirector).
/// </summary>
internal sealed class AuthorizationErrorRedirect(IOpenIddictApplicationManager applications)
    : IOpenIddictServerHandler<ApplyAuthorizationResponseContext>
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
    [
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyAuthorizationResponseContext>()
            .UseScopedHandler<AuthorizationErrorRedirect>()
            // After OpenIddict has chosen the redirect_uri and response mode of a validated request,
            // before it attaches state and iss and the response is written as a redirect or form.
            .SetOrder(OpenIddictServerHandlers.Authentication.InferResponseMode.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
    ];

    public async ValueTask HandleAsync(ApplyAuthorizationResponseContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Request is not { } request || string.IsNullOrEmpty(context.Response.Error)
            || !string.IsNullOrEmpty(context.RedirectUri) || !string.IsNullOrEmpty(context.Response.RequestUri))
        {
            return;
        }
        if (await TrustedRedirectUriAsync(request, context.CancellationToken) is { } redirectUri)
        {
            context.RedirectUri = redirectUri;
            context.ResponseMode = ResponseModeFor(request);
        }
    }

    /// <summary>The redirect_uri OpenIddict would have accepted for this request, or null.</summary>
    private async Task<string?> TrustedRedirectUriAsync(OpenIddictRequest request, CancellationToken cancellationToken)
    {
        // A repeated client_id or redirect_uri reads as null here: no single value can be trusted.
        // A missing redirect_uri is not inferred (RFC 6749 3.1.2.3 would allow the only registered
        // one for a request without openid): an error then stays on our page.
        if (string.IsNullOrEmpty(request.ClientId) || string.IsNullOrEmpty(request.RedirectUri)
            || await applications.FindByClientIdAsync(request.ClientId, cancellationToken) is not { } application
            || await DisabledClients.IsDisabledAsync(applications, application, cancellationToken))
        {
            return null;
        }
        // OpenIddict's checks of the parameter itself (ValidateRedirectUriParameter), then the exact match.
        if (!Uri.TryCreate(request.RedirectUri, UriKind.Absolute, out var uri) || !string.IsNullOrEmpty(uri.Fragment)
            || QueryHelpers.ParseQuery(uri.Query).ContainsKey(Parameters.Iss))
        {
            return null;
        }
        return await applications.ValidateRedirectUriAsync(application, request.RedirectUri, cancellationToken) ? request.RedirectUri : null;
    }

    /// <summary>
    /// The requested response mode when it is one we serve and fits the response type; otherwise the
    /// response type's default (OAuth 2.0 Multiple Response Type Encoding Practices 2.1): fragment
    /// when tokens would be returned, query otherwise.
    /// </summary>
    private static string ResponseModeFor(OpenIddictRequest request)
    {
        var returnsTokens = request.HasResponseType(ResponseTypes.Token) || request.HasResponseType(ResponseTypes.IdToken);
        return request.ResponseMode switch
        {
            ResponseModes.FormPost => ResponseModes.FormPost,
            ResponseModes.Fragment => ResponseModes.Fragment,
            ResponseModes.Query when !returnsTokens => ResponseModes.Query,
            _ => returnsTokens ? ResponseModes.Fragment : ResponseModes.Query,
        };
    }
}
