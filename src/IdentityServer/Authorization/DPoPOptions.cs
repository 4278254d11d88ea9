using System.ComponentModel.DataAnnotations;

namespace IdentityServer.Authorization;

/// <summary>DPoP (RFC 9449) proof checks, bound from the <c>DPoP</c> configuration section.</summary>
public sealed class DPoPOptions
{
    public const string Section = "DPoP";

    /// <summary>
    /// How far a proof's <c>iat</c> may be from the server's clock, either way (RFC 9449 11.1: a proof is
    /// accepted for a short window only). Its <c>jti</c> is remembered that long, so it is used once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:05", "00:10:00")]
    public TimeSpan ProofLifetime { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Whether proofs at the token and pushed-authorization endpoints must carry a nonce this server gave
    /// (RFC 9449 8): the freshness of a proof then no longer rests on the client's clock. A request without a
    /// current nonce is answered <c>use_dpop_nonce</c> with a <c>DPoP-Nonce</c> header; every answer of those
    /// endpoints carries the current nonce.
    /// </summary>
    public bool RequireNonce { get; set; }

    /// <summary>How long a nonce stays acceptable after the server gave it. A new one is given every minute.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "01:00:00")]
    public TimeSpan NonceLifetime { get; set; } = TimeSpan.FromMinutes(5);
}
