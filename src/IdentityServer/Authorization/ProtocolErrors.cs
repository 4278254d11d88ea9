using Microsoft.AspNetCore.Authentication;
using OpenIddict.Server.AspNetCore;

namespace IdentityServer.Authorization;

/// <summary>The one way this server states an OAuth error: to OpenIddict, or as JSON where OpenIddict is not involved.</summary>
internal static class ProtocolErrors
{
    /// <summary>Properties for a Forbid/Challenge that OpenIddict turns into the protocol error response.</summary>
    public static AuthenticationProperties Properties(string error, string description) =>
        new(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        });

    /// <summary>An RFC 6749 5.2 JSON error body for failures handled before or around OpenIddict.</summary>
    public static Task WriteJsonAsync(HttpContext context, int status, string error, string description)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsJsonAsync(new Dictionary<string, string>
        {
            ["error"] = error,
            ["error_description"] = description,
        }, context.RequestAborted);
    }
}
