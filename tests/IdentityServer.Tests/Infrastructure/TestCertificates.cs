using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IdentityServer.Certificates;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>Real PKCS#12 files with passwords, made once per test run: tests use the production loading path.</summary>
internal static class TestCertificates
{
    public const string Password = "test-password";

    private static readonly Lazy<(string Signing, string Encryption)> Files = new(Create);

    public static string SigningPath => Files.Value.Signing;

    public static string EncryptionPath => Files.Value.Encryption;

    private static readonly Lazy<string> EcFile = new(CreateEc);

    /// <summary>An ECDSA P-256 signing certificate (ES256 access tokens), with <see cref="Password"/>.</summary>
    public static string EcSigningPath => EcFile.Value;

    /// <summary>Writes a certificate as a PKCS#12 file with <see cref="Password"/> into a fresh folder.</summary>
    public static string Write(X509Certificate2 certificate, string name)
    {
        var folder = Path.Combine(Path.GetTempPath(), "idp-tests", "certs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, Password));
        return path;
    }

    /// <summary>A self-signed TLS server certificate for <c>localhost</c> and 127.0.0.1, with its key.</summary>
    public static X509Certificate2 CreateTls()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], critical: false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        // Through PKCS#12 so the key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    private static string CreateEc()
    {
        using var certificate = CertificateLoader.CreateEcdsa("Test Signing ECDSA", DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        return Write(certificate, "signing-ec.pfx");
    }

    private static (string, string) Create()
    {
        var folder = Path.Combine(Path.GetTempPath(), "idp-tests", "certs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var signing = Path.Combine(folder, "signing.pfx");
        var encryption = Path.Combine(folder, "encryption.pfx");
        var from = DateTimeOffset.UtcNow.AddDays(-1);
        var to = DateTimeOffset.UtcNow.AddYears(1);
        using (var certificate = CertificateLoader.Create("Test Signing", X509KeyUsageFlags.DigitalSignature, from, to))
        {
            File.WriteAllBytes(signing, certificate.Export(X509ContentType.Pkcs12, Password));
        }
        using (var certificate = CertificateLoader.Create("Test Encryption", X509KeyUsageFlags.KeyEncipherment, from, to))
        {
            File.WriteAllBytes(encryption, certificate.Export(X509ContentType.Pkcs12, Password));
        }
        return (signing, encryption);
    }
}
