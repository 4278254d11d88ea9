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

    /// <summary>"The '{0}' claim extracted from the specified client assertion is malformed or isn't of the expected type."</summary>
    public const string AssertionClaimMalformed = "ID2171";

    /// <summary>"The mandatory '{0}' claim cannot be found in the specified client assertion."</summary>
    public const string AssertionClaimMissing = "ID2172";

    /// <summary>"The '{0}' claim returned in the specified client assertion doesn't match the expected value."</summary>
    public const string AssertionClaimMismatch = "ID2173";

    /// <summary>"The '{0}' parameter doesn't match the value specified in the request object or pushed authorization request."</summary>
    public const string PushedRequestMismatch = "ID2178";

    /// <summary>"This client application is not allowed to use the specified audience(s)."</summary>
    public const string AudienceNotAllowed = "ID2191";

    /// <summary>"This client application is not allowed to use the specified resource(s)."</summary>
    public const string ResourceNotAllowed = "ID2192";

    /// <summary>"The client secret cannot be null or empty for a confidential application. Alternatively, ..." (an application check).</summary>
    public const string ConfidentialClientWithoutCredentials = "ID2113";

    /// <summary>Every id above (for the test that pins their texts).</summary>
    public static IReadOnlyList<string> All { get; } =
        [CodeRedeemed, RefreshTokenRedeemed, ScopeNotAllowed, ClientCredentialsMissing, IntrospectionNotAllowed, RevocationNotAllowed,
         AssertionClaimMalformed, AssertionClaimMissing, AssertionClaimMismatch, PushedRequestMismatch, AudienceNotAllowed, ResourceNotAllowed,
         ConfidentialClientWithoutCredentials];

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
