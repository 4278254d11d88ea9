using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>A client's DPoP key (ECDSA P-256) and the proofs it signs (RFC 9449 4.2).</summary>
public sealed class DPoPKey : IDisposable
{
    private readonly ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public DPoPKey()
    {
        var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(key.ExportParameters(false))));
        PublicJwk = new Dictionary<string, object> { ["kty"] = jwk.Kty, ["crv"] = jwk.Crv, ["x"] = jwk.X, ["y"] = jwk.Y };
        Thumbprint = Base64UrlEncoder.Encode(jwk.ComputeJwkThumbprint());
    }

    /// <summary>The public key as the proof's <c>jwk</c> header carries it.</summary>
    public Dictionary<string, object> PublicJwk { get; }

    /// <summary>The key's SHA-256 JWK thumbprint (RFC 7638): the <c>jkt</c> bound tokens carry.</summary>
    public string Thumbprint { get; }

    /// <summary>A proof for one request; each part can be made wrong on purpose.</summary>
    public string Proof(string method, string url, string? accessToken = null, string? nonce = null, DateTime? issuedAt = null,
        string? jti = "", string type = "dpop+jwt", Dictionary<string, object>? jwk = null, string? ath = null)
    {
        var claims = new Dictionary<string, object>
        {
            ["htm"] = method,
            ["htu"] = url,
            ["iat"] = EpochTime.GetIntDate(issuedAt ?? DateTime.UtcNow),
        };
        if (jti is not null)
        {
            claims["jti"] = jti.Length == 0 ? Guid.NewGuid().ToString("N") : jti;
        }
        if (accessToken is not null || ath is not null)
        {
            claims["ath"] = ath ?? Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken!)));
        }
        if (nonce is not null)
        {
            claims["nonce"] = nonce;
        }
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            Subject = new ClaimsIdentity(),
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256),
            TokenType = type,
            AdditionalHeaderClaims = new Dictionary<string, object> { ["jwk"] = jwk ?? PublicJwk },
        });
    }

    public void Dispose() => key.Dispose();
}
