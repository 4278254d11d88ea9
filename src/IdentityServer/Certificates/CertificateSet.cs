using System.Security.Cryptography.X509Certificates;

namespace IdentityServer.Certificates;

/// <summary>
/// The certificates the server holds. <paramref name="ActiveSigning"/> and <paramref name="ActiveEncryption"/>
/// are the ones configured as Active, or null when the server should choose (the valid one that expires last).
/// </summary>
internal sealed record CertificateSet(
    IReadOnlyList<X509Certificate2> Signing,
    IReadOnlyList<X509Certificate2> Encryption,
    X509Certificate2? ActiveSigning,
    X509Certificate2? ActiveEncryption)
{
    /// <summary>The encryption certificate that protects new data: the active one, else the valid one that expires last.</summary>
    public X509Certificate2 CurrentEncryption(DateTimeOffset now) => ActiveEncryption
        ?? Encryption.Where(c => c.IsValidAt(now))
            .MaxBy(static c => c.NotAfter)
        ?? Encryption[0];
}
