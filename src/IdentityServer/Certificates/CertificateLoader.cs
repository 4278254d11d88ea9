using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace IdentityServer.Certificates;

/// <summary>Loads the configured certificates, or in Development creates self-signed ones once and reuses them.</summary>
internal static class CertificateLoader
{
    private const string SigningFile = "signing.pfx";
    private const string EncryptionFile = "encryption.pfx";

    public static CertificateSet Load(CertificateOptions options, IHostEnvironment environment, DateTimeOffset now)
    {
        var signing = options.Signing.Where(static c => !string.IsNullOrWhiteSpace(c.Path)).ToList();
        var encryption = options.Encryption.Where(static c => !string.IsNullOrWhiteSpace(c.Path)).ToList();

        if (signing.Count > 0 && encryption.Count > 0)
        {
            var (signingCertificates, activeSigning) = LoadList(options.Signing, environment.ContentRootPath, "Certificates:Signing", now);
            var (encryptionCertificates, activeEncryption) = LoadList(options.Encryption, environment.ContentRootPath, "Certificates:Encryption", now);
            return new CertificateSet(signingCertificates, encryptionCertificates, activeSigning, activeEncryption);
        }

        if (!environment.IsDevelopment())
        {
            throw new InvalidOperationException(
                "No signing or encryption certificate is configured. Outside Development the server needs both: set " +
                "Certificates:Signing:0:Path and Certificates:Signing:0:Password, and Certificates:Encryption:0:Path and " +
                "Certificates:Encryption:0:Password (environment variables Certificates__Signing__0__Path, ...). " +
                "certs/README.md explains how to create them.");
        }

        var folder = Path.GetFullPath(Path.Combine(environment.ContentRootPath, options.DevelopmentPath));
        return new CertificateSet(
            [LoadOrCreateDevelopment(Path.Combine(folder, SigningFile), "IdP Development Signing", X509KeyUsageFlags.DigitalSignature)],
            [LoadOrCreateDevelopment(Path.Combine(folder, EncryptionFile), "IdP Development Encryption", X509KeyUsageFlags.KeyEncipherment)],
            ActiveSigning: null,
            ActiveEncryption: null);
    }

    /// <summary>Loads one list (entries without a path are skipped) and finds the entry marked Active, if any.</summary>
    private static (IReadOnlyList<X509Certificate2> Certificates, X509Certificate2? Active) LoadList(
        List<CertificateFile> files, string contentRoot, string section, DateTimeOffset now)
    {
        var certificates = new List<X509Certificate2>();
        X509Certificate2? active = null;
        int? activeIndex = null;
        for (var index = 0; index < files.Count; index++)
        {
            var file = files[index];
            if (string.IsNullOrWhiteSpace(file.Path))
            {
                continue;
            }
            var setting = $"{section}:{index}";
            var certificate = LoadFile(file, contentRoot, setting);
            certificates.Add(certificate);
            if (!file.Active)
            {
                continue;
            }
            if (activeIndex is { } first)
            {
                throw new InvalidOperationException(
                    $"{section}:{first} and {setting} are both marked Active; mark at most one certificate of the list.");
            }
            // An active certificate that is not valid yet (or any more) would be skipped by token
            // validators: refuse to start rather than issue tokens nobody accepts.
            if (!certificate.IsValidAt(now))
            {
                throw new InvalidOperationException(
                    $"{setting} is marked Active but is valid only from {certificate.NotBefore.ToUniversalTime():u} to {certificate.NotAfter.ToUniversalTime():u}.");
            }
            activeIndex = index;
            active = certificate;
        }
        return (certificates, active);
    }

    private static X509Certificate2 LoadFile(CertificateFile file, string contentRoot, string setting)
    {
        var path = Path.IsPathRooted(file.Path!) ? file.Path! : Path.Combine(contentRoot, file.Path!);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{setting}: the certificate file '{path}' does not exist.");
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, file.Password, X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (CryptographicException exception)
        {
            // The message never includes the password.
            throw new InvalidOperationException(
                $"{setting}: the certificate file '{path}' could not be opened (wrong password or not a PKCS#12 file).", exception);
        }

        if (!certificate.HasPrivateKey || certificate.GetRSAPrivateKey() is null)
        {
            throw new InvalidOperationException($"{setting}: '{path}' must hold an RSA certificate with its private key.");
        }
        return certificate;
    }

    private static X509Certificate2 LoadOrCreateDevelopment(string path, string subject, X509KeyUsageFlags usage)
    {
        if (File.Exists(path))
        {
            var existing = X509CertificateLoader.LoadPkcs12FromFile(path, password: null, X509KeyStorageFlags.EphemeralKeySet);
            if (existing.NotAfter > DateTime.Now.AddDays(1))
            {
                return existing;
            }
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var certificate = Create(subject, usage, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(2));
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null, X509KeyStorageFlags.EphemeralKeySet);
    }

    /// <summary>Creates a self-signed RSA-2048 certificate for one usage (signing or key encipherment).</summary>
    public static X509Certificate2 Create(string subject, X509KeyUsageFlags usage, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN={subject}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, critical: true));
        return request.CreateSelfSigned(notBefore, notAfter);
    }
}
