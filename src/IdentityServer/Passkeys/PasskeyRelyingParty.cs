using IdentityServer.Authorization;
using Microsoft.Extensions.Options;

namespace IdentityServer.Passkeys;

/// <summary>
/// The relying party in effect: the configured <c>Passkeys</c> values, else the issuer's host and
/// origin. Null members mean "follow the request", which only happens in Development without an issuer.
/// </summary>
internal sealed class PasskeyRelyingParty
{
    public PasskeyRelyingParty(IOptions<PasskeyOptions> passkeys, IOptions<TokenOptions> tokens)
    {
        ArgumentNullException.ThrowIfNull(passkeys);
        ArgumentNullException.ThrowIfNull(tokens);
        var issuer = tokens.Value.Issuer is { IsAbsoluteUri: true } uri ? uri : null;
        ServerDomain = passkeys.Value.ServerDomain ?? issuer?.IdnHost;
        List<Uri> origins = passkeys.Value.AllowedOrigins.Count > 0
            ? [.. passkeys.Value.AllowedOrigins.Select(static o => PasskeyOptions.ParseOrigin(o)!)]
            : issuer is null ? [] : [issuer];
        // Browsers report an origin as scheme://host[:port], the port only when it is not the scheme's default.
        AllowedOrigins = origins.Count == 0
            ? null
            : new HashSet<string>(origins.Select(static o => o.GetLeftPart(UriPartial.Authority)), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The relying party id; null: the request's host.</summary>
    public string? ServerDomain { get; }

    /// <summary>The origins browsers may use passkeys from; null: only the request's own origin.</summary>
    public IReadOnlySet<string>? AllowedOrigins { get; }

    /// <summary>
    /// Whether the browser reported an allowed origin. Never from a frame of another site: no page
    /// of ours is meant to be framed (frame-ancestors 'none'), so a cross-origin ceremony is not ours.
    /// Without configured origins (Development without an issuer) the request's own origin, from its
    /// scheme and Host; not from its Origin header as Identity's default check does: with our
    /// Referrer-Policy no-referrer, browsers send "Origin: null" with a form post.
    /// </summary>
    public bool IsAllowed(string? origin, bool crossOrigin, HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (crossOrigin || origin is null)
        {
            return false;
        }
        return AllowedOrigins is { } allowed
            ? allowed.Contains(origin)
            : string.Equals(origin, $"{request.Scheme}://{request.Host.ToUriComponent()}", StringComparison.OrdinalIgnoreCase);
    }
}
