using OpenIddict.Abstractions;
using OpenIddict.Server;

namespace IdentityServer.Authorization;

/// <summary>
/// The OpenIddict error ids this server recognises in OpenIddict's errors (by the error URI OpenIddict
/// attaches) or raises itself with OpenIddict's own text, in one place. OpenIddict numbers its
/// messages; a test pins each id to its text, so that a renumbering in an upgrade fails a test rather
/// than silently switching a policy off.
/// </summary>
internal static class OpenIddictErrorIds
{
    /// <summary>"The specified authorization code has already been redeemed."</summary>
    public const string CodeRedeemed = "ID2010";

    /// <summary>"The specified refresh token has already been redeemed."</summary>
    public const string RefreshTokenRedeemed = "ID2012";

    /// <summary>"This client application is not allowed to use the specified scope."</summary>
    public const string ScopeNotAllowed = "ID2051";

    /// <summary>"The '{0}' or '{1}' parameter must be specified when using the client credentials grant." (client_secret, client_assertion)</summary>
    public const string ClientCredentialsMissing = "ID2057";

    /// <summary>"The client application is not allowed to introspect the specified token."</summary>
    public const string IntrospectionNotAllowed = "ID2077";

    /// <summary>"The client application is not allowed to revoke the specified token."</summary>
    public const string RevocationNotAllowed = "ID2080";

    /// <summary>Every id above (for the test that pins their texts).</summary>
    public static IReadOnlyList<string> All { get; } =
        [CodeRedeemed, RefreshTokenRedeemed, ScopeNotAllowed, ClientCredentialsMissing, IntrospectionNotAllowed, RevocationNotAllowed];

    /// <summary>Whether an error's URI is the one OpenIddict attaches to the error with this id.</summary>
    public static bool Is(string? errorUri, string id) =>
        errorUri is not null && string.Equals(errorUri, OpenIddictResources.FormatID8000(id), StringComparison.Ordinal);

    /// <summary>Rejects with OpenIddict's own description and error URI for this id.</summary>
    public static void Reject(OpenIddictServerEvents.BaseValidatingContext context, string error, string id)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Reject(error, OpenIddictResources.GetResourceString(id), OpenIddictResources.FormatID8000(id));
    }
}
