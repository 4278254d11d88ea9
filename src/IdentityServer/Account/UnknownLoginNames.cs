using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using IdentityServer.Certificates;

namespace IdentityServer.Account;

/// <summary>
/// What the audit trail records for a login that matches no account. People type passwords into the
/// name field, so the text itself is never stored or shown: it becomes <c>unknown:</c> and 16 hex
/// digits of an HMAC-SHA256 of the normalised login (<see cref="LoginKey"/>), so an administrator
/// still sees the same unknown name tried again and again, but nobody can read the text back from
/// the audit trail, or test guesses against it, without the key.
/// The key is derived, not configured or stored: it is the SHA-256 of a PKCS#1 v1.5 signature of a
/// fixed label made with the private key of the current encryption certificate. Such signatures are
/// deterministic, so every node holding the same certificates derives the same key, and the key is
/// as secret as that private key (which never signs anything else). Rolling the encryption
/// certificate changes the key: names recorded before the roll then no longer match new ones.
/// </summary>
internal sealed class UnknownLoginNames
{
    /// <summary>What every recorded unknown login starts with.</summary>
    public const string Prefix = "unknown:";

    /// <summary>Bytes of the HMAC kept: 64 bits tell names apart in any audit trail, and say less about them.</summary>
    private const int KeptBytes = 8;

    private static readonly byte[] KeyLabel = Encoding.UTF8.GetBytes("IdentityServer audit trail: unknown sign-in names, key 1");

    private readonly byte[] key;

    public UnknownLoginNames(CertificateSet certificates, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        ArgumentNullException.ThrowIfNull(clock);
        var certificate = certificates.CurrentEncryption(clock.GetUtcNow());
        using var rsa = certificate.GetRSAPrivateKey() ?? throw new InvalidOperationException(
            $"The encryption certificate {certificate.Thumbprint} has no RSA private key; it is needed to derive the key that hashes unknown sign-in names in the audit trail.");
        var signature = rsa.SignData(KeyLabel, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        key = SHA256.HashData(signature);
        CryptographicOperations.ZeroMemory(signature);
    }

    /// <summary>The form an unknown login is recorded in: the same for "Bob", " bob" and "BOB", different for other names.</summary>
    public string Pseudonym(string login)
    {
        ArgumentNullException.ThrowIfNull(login);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(LoginKey.Normalize(login)), mac);
        return Prefix + Convert.ToHexStringLower(mac[..KeptBytes]);
    }
}
