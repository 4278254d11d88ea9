using System.Security.Cryptography.X509Certificates;

namespace IdentityServer.Certificates;

/// <summary>
/// The certificates the server holds. <see cref="Signing"/> mixes RSA and ECDSA P-256 certificates;
/// <paramref name="ActiveRsaSigning"/>, <paramref name="ActiveEcSigning"/> and <paramref name="ActiveEncryption"/>
/// are the ones configured as Active, or null when the server should choose (the valid one that expires last).
/// </summary>
internal sealed record CertificateSet(
    IReadOnlyList<X509Certificate2> Signing,
    IReadOnlyList<X509Certificate2> Encryption,
    X509Certificate2? ActiveRsaSigning,
    X509Certificate2? ActiveEncryption,
    X509Certificate2? ActiveEcSigning = null)
{
    /// <summary>The encryption certificate that protects new data: the active one, else the valid one that expires last.</summary>
    public X509Certificate2 CurrentEncryption(DateTimeOffset now) => ActiveEncryption
        ?? Encryption.Where(c => c.IsValidAt(now))
            .MaxBy(static c => c.NotAfter)
        ?? Encryption[0];

    /// <summary>The RSA certificate that signs (ID tokens always): the active one, else the valid one that expires last; null when none is valid.</summary>
    public X509Certificate2? CurrentRsaSigning(DateTimeOffset now) =>
        ActiveRsaSigning ?? Current(Signing.Where(SigningKeys.IsRsa), now);

    /// <summary>The ECDSA P-256 certificate that signs ES256 access tokens: the active one, else the valid one that expires last; null when none is valid.</summary>
    public X509Certificate2? CurrentEcSigning(DateTimeOffset now) =>
        ActiveEcSigning ?? Current(Signing.Where(SigningKeys.IsEcP256), now);

    private static X509Certificate2? Current(IEnumerable<X509Certificate2> certificates, DateTimeOffset now) =>
        certificates.Where(c => c.IsValidAt(now)).MaxBy(static c => c.NotAfter);
}
