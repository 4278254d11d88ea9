using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ClientSamples.Shared;

/// <summary>
/// A sample app's DPoP key (RFC 9449): an ECDSA P-256 key made at start that never leaves the process. The
/// identity provider binds the app's access tokens to it, and APIs accept them only with a proof signed by
/// it, so a token copied from a log or a proxy is of no use to anyone else. Shared by the worker and the API
/// (which exchanges DPoP-bound tokens for its downstream calls); each process has its own key.
/// </summary>
internal sealed class DPoPKey : IDisposable
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    private readonly ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly Dictionary<string, object> jwk;
    private string? nonce;

    public DPoPKey()
    {
        var publicKey = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(key.ExportParameters(false))));
        jwk = new() { ["kty"] = publicKey.Kty, ["crv"] = publicKey.Crv, ["x"] = publicKey.X, ["y"] = publicKey.Y };
    }

    /// <summary>The last nonce the identity provider gave in a <c>DPoP-Nonce</c> header (RFC 9449 8), if it asks for them.</summary>
    public string? Nonce
    {
        get => Volatile.Read(ref nonce);
        set => Volatile.Write(ref nonce, value);
    }

    /// <summary>
    /// A proof for one request: the method and URL (without query) it is for, when it was made, a unique id,
    /// and, with an access token, the token's hash; signed by the key, whose public half it carries.
    /// </summary>
    public string Proof(HttpMethod method, Uri url, string? accessToken = null, string? nonce = null)
    {
        var claims = new Dictionary<string, object>
        {
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["htm"] = method.Method,
            ["htu"] = url.GetLeftPart(UriPartial.Path),
            ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        };
        if (accessToken is not null)
        {
            claims["ath"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
        }
        if (nonce is not null)
        {
            claims["nonce"] = nonce;
        }
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(),
            Claims = claims,
            TokenType = "dpop+jwt",
            AdditionalHeaderClaims = new Dictionary<string, object> { ["jwk"] = jwk },
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256),
        });
    }

    public void Dispose() => key.Dispose();
}
