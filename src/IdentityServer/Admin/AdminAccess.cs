using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Admin;

/// <summary>
/// Who may use the admin API: an access token for the admin resource with the <c>idp.admin</c>
/// scope, or the IdP cookie of an account with the admin role.
/// </summary>
internal sealed class AdminAccessRequirement : AuthorizationHandler<AdminAccessRequirement>, IAuthorizationRequirement
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AdminAccessRequirement requirement)
    {
        if (AdminAccess.IsCookie(context.User))
        {
            if (context.User.HasClaim(Claims.Role, AdminScope.Role))
            {
                context.Succeed(requirement);
            }
        }
        // The audience is checked here rather than by the validation handler, so that a valid
        // token issued for another API is refused with 403 (not the right token) instead of 401.
        // A token acting for a user must also be an admin's; a client's own token (subject = its
        // client id, client credentials) stands for the automation the scope was granted to.
        else if (context.User.Identity?.IsAuthenticated == true
            && context.User.HasScope(AdminScope.Name) && context.User.HasAudience(AdminScope.Resource)
            && (context.User.GetClaim(Claims.Subject) == context.User.GetClaim(Claims.ClientId)
                || context.User.HasClaim(Claims.Role, AdminScope.Role)))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}

internal static class AdminAccess
{
    /// <summary>The policy of the admin API (token or cookie).</summary>
    public const string ApiPolicy = "AdminApi";

    /// <summary>The policy of the admin pages (cookie only).</summary>
    public const string PagesPolicy = "AdminPages";

    /// <summary>Picks the bearer token when the request has an Authorization header, else the IdP cookie.</summary>
    public const string ApiScheme = "AdminApi";

    public static bool IsCookie(ClaimsPrincipal user) =>
        user.Identity is { IsAuthenticated: true } identity && identity.AuthenticationType == IdentityConstants.ApplicationScheme;

    /// <summary>
    /// Who is acting, as recorded on sessions and events and compared with the account acted on: the
    /// admin's user id (cookie, or a token issued to the admin through an app), or the client id of a
    /// token the client obtained for itself (its subject is the client id). A token acting for an admin
    /// is that admin, so it cannot do to their own account what the pages refuse.
    /// </summary>
    public static string Actor(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return (user.FindFirst(Claims.Subject)?.Value ?? (IsCookie(user) ? null : user.GetClaim(Claims.ClientId)))
            ?? throw new InvalidOperationException("An authorized admin principal has no subject or client id.");
    }
}

/// <summary>
/// A browser sends the IdP cookie with any request it makes, so an unsafe call authenticated by
/// the cookie must prove it comes from our pages (antiforgery token in the <c>RequestVerificationToken</c>
/// header). Bearer calls carry their credential explicitly and need no such proof.
/// </summary>
internal sealed class CookieAntiforgeryFilter(IAntiforgery antiforgery) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        if (AdminAccess.IsCookie(http.User) && !(HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method)))
        {
            try
            {
                await antiforgery.ValidateRequestAsync(http);
            }
            catch (AntiforgeryValidationException)
            {
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status400BadRequest,
                    title: "Antiforgery token missing or invalid.",
                    detail: "A call authenticated by the sign-in cookie must send the page's antiforgery token in the RequestVerificationToken header.");
            }
        }
        return await next(context);
    }
}
