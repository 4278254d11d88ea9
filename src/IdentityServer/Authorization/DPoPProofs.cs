using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Authorization;

/// <summary>A DPoP proof that passed every check of RFC 9449 4.3, and the thumbprint of its key (RFC 7638).</summary>
internal sealed record DPoPProof(string Thumbprint, string JwtId, DateTimeOffset IssuedAt, string? Nonce);

/// <summary>Reads and checks DPoP proofs (RFC 9449 4.3), whatever endpoint receives them.</summary>
internal static class DPoPProofs
{
    public const string Header = "DPoP";
    public const string NonceHeader = "DPoP-Nonce";
    /// <summary>The token type of a DPoP-bound access token (RFC 9449 5), also its authorization scheme (7.1).</summary>
    public const string Scheme = "DPoP";
    public const string InvalidProof = "invalid_dpop_proof";
    public const string UseNonce = "use_dpop_nonce";
    /// <summary>The <c>dpop_jkt</c> authorization request parameter (RFC 9449 10).</summary>
    public const string ThumbprintParameter = "dpop_jkt";
    public const string ProofType = "dpop+jwt";

    /// <summary>Asymmetric algorithms only (RFC 9449 4.3: not "none", no MAC).</summary>
    public static readonly string[] Algorithms = ["ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"];

    /// <summary>A proof longer than this is refused unread (a 4,096-bit RSA key's proof is under 1.5 KB).</summary>
    private const int MaxLength = 4096;

    private static readonly JsonWebTokenHandler Handler = new();

    /// <summary>
    /// Checks a proof for a request: its form, type, algorithm and public key, its signature by that key,
    /// <c>htm</c>, <c>htu</c> (query and fragment ignored), <c>iat</c> within <paramref name="lifetime"/> of
    /// <paramref name="now"/>, a <c>jti</c>, and <c>ath</c> when it comes with an access token. The replay
    /// and nonce checks are the caller's. Returns the proof, or why it was refused.
    /// </summary>
    public static async Task<(DPoPProof? Proof, string? Problem)> ReadAsync(
        string value, string method, Uri requestUri, DateTimeOffset now, TimeSpan lifetime, string? accessToken)
    {
        if (value.Length > MaxLength)
        {
            return (null, "The DPoP proof is too long.");
        }
        JsonWebToken token;
        JsonElement jwk;
        try
        {
            token = new JsonWebToken(value);
            using var header = JsonDocument.Parse(Base64UrlEncoder.Decode(token.EncodedHeader));
            if (!header.RootElement.TryGetProperty("jwk", out var member) || member.ValueKind != JsonValueKind.Object)
            {
                return (null, "The DPoP proof must carry its public key in a 'jwk' header.");
            }
            jwk = member.Clone();
        }
        catch (Exception exception) when (exception is ArgumentException or JsonException or FormatException or SecurityTokenException)
        {
            return (null, "The DPoP proof is not a signed JWT.");
        }
        // RFC 7515 4.1.9: a type without '/' is read as if "application/" came first, so both spellings are one type.
        if (token.IsEncrypted || !(string.Equals(token.Typ, ProofType, StringComparison.OrdinalIgnoreCase)
            || string.Equals(token.Typ, "application/" + ProofType, StringComparison.OrdinalIgnoreCase)))
        {
            return (null, $"The DPoP proof must be a signed JWT of type '{ProofType}'.");
        }
        if (!Algorithms.Contains(token.Alg, StringComparer.Ordinal))
        {
            return (null, $"The DPoP proof must be signed with one of {string.Join(", ", Algorithms)}.");
        }
        var set = JsonSerializer.SerializeToElement(new { keys = new[] { jwk } });
        if (ClientKeys.Problems(set).Count > 0)
        {
            return (null, "The DPoP proof's 'jwk' must be a public RSA key of 2,048 bits or more or a public EC key on P-256, P-384 or P-521.");
        }
        var key = ClientKeys.Parse(set).Keys[0];
        var result = await Handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            // Type and algorithm are checked above; the algorithm again here, where the signature is verified.
            IssuerSigningKey = key,
            ValidAlgorithms = Algorithms,
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
        });
        if (!result.IsValid)
        {
            return (null, "The DPoP proof's signature does not verify with its 'jwk'.");
        }
        if (!token.TryGetPayloadValue<string>("jti", out var jti) || jti is not { Length: > 0 and <= 256 })
        {
            return (null, "The DPoP proof must have a 'jti' of at most 256 characters.");
        }
        if (!token.TryGetPayloadValue<string>("htm", out var htm) || !string.Equals(htm, method, StringComparison.Ordinal))
        {
            return (null, $"The DPoP proof's 'htm' must be the request's method ({method}).");
        }
        if (!token.TryGetPayloadValue<string>("htu", out var htu) || !SameTarget(htu, requestUri))
        {
            return (null, $"The DPoP proof's 'htu' must be the request's URL ({Target(requestUri)}).");
        }
        if (!token.TryGetPayloadValue<long>("iat", out var iat)
            || DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(iat, 0, 253_402_300_799)) is var issued && (issued < now - lifetime || issued > now + lifetime))
        {
            return (null, "The DPoP proof's 'iat' is missing or too far from the server's time.");
        }
        if (accessToken is not null
            && (!token.TryGetPayloadValue<string>("ath", out var ath) || !string.Equals(ath, AccessTokenHash(accessToken), StringComparison.Ordinal)))
        {
            return (null, "The DPoP proof's 'ath' must be the hash of the access token it comes with.");
        }
        token.TryGetPayloadValue<string>("nonce", out var nonce);
        return (new DPoPProof(Base64UrlEncoder.Encode(key.ComputeJwkThumbprint()), jti, issued, nonce), null);
    }

    /// <summary>The <c>ath</c> of an access token: the base64url SHA-256 of its ASCII text (RFC 9449 4.2).</summary>
    public static string AccessTokenHash(string accessToken) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));

    /// <summary>Whether a value is the shape of a SHA-256 JWK thumbprint (43 base64url characters).</summary>
    public static bool IsThumbprint(string? value) =>
        value is { Length: 43 } && value.All(static c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>Scheme, host, port and path, normalized as RFC 3986 6.2.2 and 6.2.3 do (case of scheme and host, default port).</summary>
    private static string Target(Uri uri) => uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);

    private static bool SameTarget(string htu, Uri requestUri) =>
        Uri.TryCreate(htu, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
        && string.Equals(Target(uri), Target(requestUri), StringComparison.Ordinal);
}
