namespace IdentityServer.Keys;

/// <summary>
/// A signing key the server made itself (<c>Keys:Mode=Automatic</c>), one row per key. Its private key
/// is stored protected by ASP.NET Core data protection, whose key ring is itself encrypted with the
/// encryption certificate, so the database alone opens nothing. When it signs follows from the times:
/// published from <see cref="CreatedAt"/>, signing from <see cref="ActivatesAt"/> to <see cref="RetiresAt"/>,
/// published until every token it signed has expired; a revoked key is neither. The private key of a
/// retired or revoked key is erased.
/// </summary>
public sealed class SigningKey
{
    /// <summary>The key id (<c>kid</c>): 128 random bits, base64url.</summary>
    public required string Id { get; init; }

    /// <summary><c>RS256</c> (RSA 2048: ID tokens, RS256 and PS256 access tokens) or <c>ES256</c> (ECDSA P-256: ES256 access tokens).</summary>
    public required string Algorithm { get; init; }

    /// <summary>PKCS#8 private key, protected by data protection and base64url encoded; empty once erased.</summary>
    public string ProtectedKey { get; set; } = "";

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset ActivatesAt { get; set; }

    /// <summary>When the next key takes over; null while no next key is scheduled.</summary>
    public DateTimeOffset? RetiresAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>Where a key stands at a given time.</summary>
public enum SigningKeyState
{
    /// <summary>Published in the JWKS, not signing yet.</summary>
    Next,

    /// <summary>Signing.</summary>
    Current,

    /// <summary>No longer signing; published until the tokens it signed have expired.</summary>
    Retiring,

    /// <summary>Neither signing nor published; its private key is erased.</summary>
    Retired,

    /// <summary>Revoked by an administrator: removed from the JWKS at once; tokens it signed no longer validate.</summary>
    Revoked,
}
