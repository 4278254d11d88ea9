using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ClientSamples.EndToEndTests.Cluster;

/// <summary>
/// The certificates of one test cluster, made fresh for it: the signing and the encryption certificate
/// every node loads (password-protected PKCS#12 files, as in production), and nginx's TLS certificate
/// for localhost (PEM), which the test's HTTP client trusts, and nothing else.
/// </summary>
internal sealed class ClusterCertificates
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string tlsThumbprint;

    private ClusterCertificates(string folder, string tlsThumbprint)
    {
        SigningPath = Path.Combine(folder, "signing.pfx");
        EncryptionPath = Path.Combine(folder, "encryption.pfx");
        TlsCertificatePath = Path.Combine(folder, "tls.crt");
        TlsKeyPath = Path.Combine(folder, "tls.key");
        this.tlsThumbprint = tlsThumbprint;
    }

    public string Password { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    public string SigningPath { get; }

    public string EncryptionPath { get; }

    public string TlsCertificatePath { get; }

    public string TlsKeyPath { get; }

    public static ClusterCertificates Create(string folder)
    {
        using var tlsKey = RSA.Create(2048);
        using var tls = SelfSigned("CN=localhost", tlsKey, X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, request =>
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], critical: false));
        });
        var certificates = new ClusterCertificates(folder, tls.GetCertHashString(HashAlgorithmName.SHA256));
        File.WriteAllText(certificates.TlsCertificatePath, tls.ExportCertificatePem());
        WriteOwnerOnly(certificates.TlsKeyPath, System.Text.Encoding.ASCII.GetBytes(tlsKey.ExportPkcs8PrivateKeyPem()));

        // The key usages OpenIddict requires: a signing certificate signs, an encryption certificate enciphers keys.
        using var signingKey = RSA.Create(2048);
        using var signing = SelfSigned("CN=Cluster Test Signing", signingKey, X509KeyUsageFlags.DigitalSignature);
        WriteOwnerOnly(certificates.SigningPath, signing.Export(X509ContentType.Pkcs12, certificates.Password));
        using var encryptionKey = RSA.Create(2048);
        using var encryption = SelfSigned("CN=Cluster Test Encryption", encryptionKey, X509KeyUsageFlags.KeyEncipherment);
        WriteOwnerOnly(certificates.EncryptionPath, encryption.Export(X509ContentType.Pkcs12, certificates.Password));
        return certificates;
    }

    /// <summary>Whether a server presented nginx's certificate: the only one the tests' HTTP client accepts.</summary>
    public bool IsTlsCertificate(X509Certificate2? presented) =>
        presented is not null && presented.GetCertHashString(HashAlgorithmName.SHA256) == tlsThumbprint;

    private static X509Certificate2 SelfSigned(string subject, RSA key, X509KeyUsageFlags usages, Action<CertificateRequest>? extend = null)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(usages, critical: true));
        extend?.Invoke(request);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static void WriteOwnerOnly(string path, byte[] content)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }
        using var file = new FileStream(path, options);
        file.Write(content);
    }
}
