using System.ComponentModel.DataAnnotations;

namespace IdentityServer.Passkeys;

/// <summary>
/// Bound from the <c>Passkeys</c> configuration section: who the relying party is for WebAuthn.
/// Both default to the configured issuer (<c>IdentityServer:Issuer</c>), which is what users'
/// browsers show; without one (Development only) they follow the request.
/// </summary>
public sealed class PasskeyOptions : IValidatableObject
{
    public const string Section = "Passkeys";

    /// <summary>
    /// The relying party id: a host name such as <c>id.example.com</c> (or a parent domain such as
    /// <c>example.com</c>, so that passkeys also work on its other hosts). Passkeys are bound to it:
    /// changing it later makes every registered passkey unusable. Default: the issuer's host.
    /// </summary>
    [StringLength(253)]
    public string? ServerDomain { get; set; }

    /// <summary>
    /// The origins (scheme, host and port, such as <c>https://id.example.com</c>) whose pages may
    /// create and use passkeys. Each must be on <see cref="ServerDomain"/> or one of its subdomains.
    /// Default: the issuer's origin.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ServerDomain is { } domain && (Uri.CheckHostName(domain) != UriHostNameType.Dns || domain.Any(char.IsAsciiLetterUpper) || domain.EndsWith('.')))
        {
            yield return new ValidationResult(
                $"{Section}:ServerDomain '{domain}' must be a lower-case host name without scheme, port or path (for example id.example.com).",
                [nameof(ServerDomain)]);
        }
        foreach (var origin in AllowedOrigins)
        {
            if (ParseOrigin(origin) is null)
            {
                yield return new ValidationResult(
                    $"{Section}:AllowedOrigins '{origin}' must be an http or https origin without path, query or user info (for example https://id.example.com).",
                    [nameof(AllowedOrigins)]);
            }
            else if (ServerDomain is { } rpId && !IsOnDomain(ParseOrigin(origin)!.IdnHost, rpId))
            {
                yield return new ValidationResult(
                    $"{Section}:AllowedOrigins '{origin}' is not on {Section}:ServerDomain '{rpId}' or one of its subdomains: browsers would refuse its passkeys.",
                    [nameof(AllowedOrigins)]);
            }
        }
    }

    /// <summary>The origin as a URI when it is exactly one (http or https, nothing after the port); null otherwise.</summary>
    internal static Uri? ParseOrigin(string? origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            && uri.AbsolutePath == "/" && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment) && string.IsNullOrEmpty(uri.UserInfo)
            && !origin!.TrimEnd('/').EndsWith('?') && !origin.Contains('#', StringComparison.Ordinal)
            ? uri
            : null;

    /// <summary>WebAuthn's rule: the relying party id is the origin's host or a domain it belongs to.</summary>
    internal static bool IsOnDomain(string host, string domain) =>
        host.Equals(domain, StringComparison.OrdinalIgnoreCase) || host.EndsWith("." + domain, StringComparison.OrdinalIgnoreCase);
}
