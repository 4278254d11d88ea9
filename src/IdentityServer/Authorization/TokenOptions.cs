using System.ComponentModel.DataAnnotations;

namespace IdentityServer.Authorization;

/// <summary>Token lifetimes and formats, bound from the <c>IdentityServer</c> configuration section.</summary>
public sealed class TokenOptions
{
    public const string Section = "IdentityServer";

    /// <summary>Optional fixed issuer (for example behind a reverse proxy); by default the request's base URI.</summary>
    public Uri? Issuer { get; set; }

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan IdentityTokenLifetime { get; set; } = TimeSpan.FromMinutes(20);

    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(14);

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan AuthorizationCodeLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long the <c>request_uri</c> of a pushed authorization request (RFC 9126) may be used at the
    /// authorization endpoint, sign-in, sign-up and consent included (a client whose library pushes by
    /// itself gives its users this long). Under 10 minutes, as FAPI 2.0 asks.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "00:09:59")]
    public TimeSpan PushedAuthorizationRequestLifetime { get; set; } = TimeSpan.FromMinutes(9);

    /// <summary>How long a device code and its user code may be used (device authorization grant, RFC 8628).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan DeviceCodeLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long a rotated refresh token may still be presented (a client's network retry). Zero (the
    /// default): any second use is reuse and revokes the grant. Inside a leeway a second use continues
    /// the chain and revokes what the first use produced (see <see cref="RefreshTokenRotation"/>).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan RefreshTokenReuseLeeway { get; set; } = TimeSpan.Zero;

    public AccessTokenFormat AccessTokenFormat { get; set; } = AccessTokenFormat.Jwt;

    /// <summary>
    /// How JWT access tokens are signed. ID tokens are RS256 whatever this says (OpenID Connect's
    /// default, which every relying party supports). ES256 needs an ECDSA P-256 certificate in
    /// <c>Certificates:Signing</c> (see certs/README.md).
    /// </summary>
    public AccessTokenAlgorithm AccessTokenAlgorithm { get; set; } = AccessTokenAlgorithm.RS256;

    /// <summary>
    /// Refuses an <c>IdentityServer:AccessTokenAlgorithm</c> that is not one of the names, before the
    /// binder sees it: it would otherwise accept a number ("3") as an enum value nobody defined, and
    /// answer anything else with a message that does not say which values exist.
    /// </summary>
    public static void CheckAccessTokenAlgorithm(IConfiguration configuration)
    {
        const string Setting = Section + ":" + nameof(AccessTokenAlgorithm);
        var value = configuration[Setting];
        if (value is not null && !Enum.GetNames<AccessTokenAlgorithm>().Contains(value.Trim(), StringComparer.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"{Setting} '{value}' is not supported; use one of {string.Join(", ", Enum.GetNames<AccessTokenAlgorithm>())}.");
        }
    }
}

/// <summary>JWS algorithms for access tokens (RFC 7518 3.1).</summary>
public enum AccessTokenAlgorithm
{
    /// <summary>RSASSA-PKCS1-v1_5 with SHA-256 and the RSA signing certificate: the default, verified by every JWT library.</summary>
    RS256,

    /// <summary>ECDSA P-256 with SHA-256 and the ECDSA signing certificate: a cheaper signature, verified by every modern JWT library.</summary>
    ES256,

    /// <summary>RSASSA-PSS with SHA-256 and the RSA signing certificate.</summary>
    PS256,
}

public enum AccessTokenFormat
{
    /// <summary>Signed (not encrypted) JWT: an API can validate it locally with the JWKS or ask introspection.</summary>
    Jwt,

    /// <summary>Opaque handle stored server-side: only introspection can read it.</summary>
    Reference,
}
