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
}

public enum AccessTokenFormat
{
    /// <summary>Signed (not encrypted) JWT: an API can validate it locally with the JWKS or ask introspection.</summary>
    Jwt,

    /// <summary>Opaque handle stored server-side: only introspection can read it.</summary>
    Reference,
}
