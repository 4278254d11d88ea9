using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.Json;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Authorization;

/// <summary>
/// Which user claims a set of granted scopes lets into the access token. An access token is a signed
/// but readable JWT: every API it is sent to, and every log or proxy it passes, can read it. So it
/// names the user by <c>sub</c> alone unless a granted scope asks for more through its
/// <c>AccessTokenClaims</c> list (seed file), which is stored as a property of the scope.
/// <see cref="PrincipalFactory.GetDestinations"/> applies the answer.
/// </summary>
internal static class AccessTokenClaims
{
    /// <summary>The scope property holding the list: a JSON array of claim types.</summary>
    public const string Property = "access_token_claims";

    /// <summary>
    /// The claim types a scope may list: the user claims this server issues at all (OpenID Connect
    /// Core 5.4 profile and email claims, and <c>role</c>). Anything else a stored list names is
    /// ignored, so a property written by another tool cannot copy the security stamp or a private claim out.
    /// </summary>
    public static IReadOnlySet<string> Releasable { get; } =
        PrincipalFactory.ProfileClaims.Concat([Claims.Email, Claims.EmailVerified, Claims.Role]).ToFrozenSet(StringComparer.Ordinal);

    /// <summary>No scope asks for anything: the access token carries no user claim.</summary>
    public static IReadOnlySet<string> None { get; } = FrozenSet<string>.Empty;

    /// <summary>The property value stored for a seed's list: distinct and sorted, so an unchanged seed compares equal.</summary>
    public static JsonElement ToProperty(IEnumerable<string> claims) =>
        JsonSerializer.SerializeToElement(claims.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray());

    /// <summary>The list a stored property holds (for reading a scope back in the seed file's shape).</summary>
    public static IEnumerable<string> FromProperty(JsonElement property) =>
        property.ValueKind == JsonValueKind.Array
            ? property.EnumerateArray().Where(static i => i.ValueKind == JsonValueKind.String).Select(static i => i.GetString()!)
            : [];

    /// <summary>The union of the lists of the given (granted) scopes.</summary>
    /// <remarks>
    /// The standard scopes have no stored entry and never carry a list, so only the others are looked
    /// up: then every name exists, the scope manager serves the lookup from its cache and the EF
    /// store caches the parsed properties, so issuing a token normally costs no query here.
    /// </remarks>
    public static async ValueTask<IReadOnlySet<string>> ForScopesAsync(
        IOpenIddictScopeManager scopes, ImmutableArray<string> granted, CancellationToken cancellationToken)
    {
        var names = granted.IsDefault ? [] : granted.RemoveAll(static name => AuthorizationSetup.StandardScopes.Contains(name, StringComparer.Ordinal));
        if (names.IsEmpty)
        {
            return None;
        }

        HashSet<string>? claims = null;
        await foreach (var scope in scopes.FindByNamesAsync(names, cancellationToken))
        {
            var properties = await scopes.GetPropertiesAsync(scope, cancellationToken);
            if (!properties.TryGetValue(Property, out var list) || list.ValueKind != JsonValueKind.Array)
            {
                continue;
            }
            foreach (var item in list.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.String && item.GetString() is { } type && Releasable.Contains(type))
                {
                    (claims ??= new HashSet<string>(StringComparer.Ordinal)).Add(type);
                }
            }
        }
        return claims ?? None;
    }
}
