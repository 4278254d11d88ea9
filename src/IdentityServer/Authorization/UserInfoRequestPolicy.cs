using Microsoft.AspNetCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// What the userinfo endpoint accepts, decided before <see cref="UserInfoEndpoint"/> runs:
/// the access token only in the <c>Authorization</c> header, and only a token issued with the
/// <c>openid</c> scope. Its answers, errors included, are never cached.
/// </summary>
internal sealed class UserInfoRequestPolicy :
    IOpenIddictServerHandler<ExtractUserInfoRequestContext>,
    IOpenIddictServerHandler<ValidateUserInfoRequestContext>
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
    [
        // Right after OpenIddict has read the query (GET) or the form (POST) into the request, and
        // before it reads the Authorization header, which would overwrite the access_token parameter.
        OpenIddictServerHandlerDescriptor.CreateBuilder<ExtractUserInfoRequestContext>()
            .UseSingletonHandler<UserInfoRequestPolicy>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ExtractGetOrPostRequest<ExtractUserInfoRequestContext>.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        // Right after OpenIddict has validated the access token and attached its principal.
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateUserInfoRequestContext>()
            .UseSingletonHandler<UserInfoRequestPolicy>()
            .SetOrder(OpenIddictServerHandlers.UserInfo.ValidateAuthentication.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        // OpenIddict marks token and authorization responses no-store, but not userinfo's, which are
        // personal data (RFC 6749 5.1 asks the same of any response carrying tokens or secrets). Its
        // own handler is reused; the successful answer is written by UserInfoEndpoint, which sets it too.
        OpenIddictServerAspNetCoreHandlers.AttachCacheControlHeader<ApplyUserInfoResponseContext>.Descriptor,
    ];

    /// <summary>
    /// A token in the query string ends up in server and proxy logs, browser history and Referer
    /// headers; RFC 9700 4.3.2 and OpenID Connect Core 5.3.1 ask for the header. The form body (RFC 6750
    /// 2.2) is refused too: one way, the header, is simpler to get right than three.
    /// </summary>
    public ValueTask HandleAsync(ExtractUserInfoRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var query = context.Transaction.GetHttpRequest()?.Query;
        if (context.Request?.HasParameter(Parameters.AccessToken) == true || query?.ContainsKey(Parameters.AccessToken) == true)
        {
            context.Reject(Errors.InvalidRequest, "The access token must be sent in the Authorization header (Bearer), not in the query string or the request body.");
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Userinfo belongs to OpenID Connect: a token the user granted to an API only, without
    /// <c>openid</c>, does not open it (RFC 6750 3.1: 403 insufficient_scope).
    /// </summary>
    public ValueTask HandleAsync(ValidateUserInfoRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.AccessTokenPrincipal?.HasScope(Scopes.OpenId) != true)
        {
            context.Reject(Errors.InsufficientScope, "The access token was not issued with the 'openid' scope.");
        }
        return ValueTask.CompletedTask;
    }
}
