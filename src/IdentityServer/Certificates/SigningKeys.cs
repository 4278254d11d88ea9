using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Certificates;

/// <summary>
/// The two kinds of signing certificate: RSA (RS256 and PS256) and ECDSA P-256 (ES256), and how each
/// becomes an OpenIddict signing key.
/// </summary>
internal static class SigningKeys
{
    // OID of the NIST P-256 curve (secp256r1, prime256v1), the only curve ES256 allows (RFC 7518 3.4).
    private const string P256 = "1.2.840.10045.3.1.7";

    public static bool IsRsa(X509Certificate2 certificate)
    {
        using var rsa = certificate.GetRSAPublicKey();
        return rsa is not null;
    }

    public static bool IsEcP256(X509Certificate2 certificate)
    {
        using var ecdsa = certificate.GetECDsaPublicKey();
        return ecdsa?.ExportParameters(includePrivateParameters: false).Curve.Oid.Value == P256;
    }

    /// <summary>
    /// The key OpenIddict signs with. An RSA certificate stays an <see cref="X509SecurityKey"/> (its JWK
    /// carries x5c/x5t). IdentityModel signs with an X509SecurityKey only when it holds RSA, so an ECDSA
    /// certificate becomes an <see cref="ECDsaSecurityKey"/> whose key id is the thumbprint, the same
    /// naming OpenIddict gives X.509 keys; OpenIddict then signs with ES256 and publishes kty EC, crv P-256.
    /// </summary>
    public static SecurityKey For(X509Certificate2 certificate) => IsRsa(certificate)
        ? new X509SecurityKey(certificate)
        : new ECDsaSecurityKey(certificate.GetECDsaPrivateKey()
            ?? throw new InvalidOperationException($"The signing certificate {certificate.Thumbprint} has no ECDSA private key."))
        {
            KeyId = certificate.Thumbprint,
        };
}
