using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace IdentityServer.Certificates;

/// <summary>Loads the configured certificates, or in Development creates self-signed ones once and reuses them.</summary>
internal static class CertificateLoader
{
    private const string SigningFile = "signing.pfx";
    private const string EcSigningFile = "signing-ec.pfx";
    private const string EncryptionFile = "encryption.pfx";

    /// <param name="automaticSigning">
    /// Keys:Mode=Automatic: the server makes its own signing keys (see Keys/), so only the encryption
    /// certificate is loaded (or, in Development, created): it protects the keys the server stores.
    /// </param>
    public static CertificateSet Load(CertificateOptions options, IHostEnvironment environment, DateTimeOffset now, bool automaticSigning = false)
    {
        var signing = options.Signing.Where(static c => !string.IsNullOrWhiteSpace(c.Path)).ToList();
        var encryption = options.Encryption.Where(static c => !string.IsNullOrWhiteSpace(c.Path)).ToList();

        if (automaticSigning && encryption.Count > 0)
        {
            var (encryptionCertificates, activeEncryption) = LoadList(options.Encryption, environment.ContentRootPath, "Certificates:Encryption", now, signing: false);
            return new CertificateSet([], encryptionCertificates, null, activeEncryption.GetValueOrDefault(KeyKind.Rsa));
        }
        if (automaticSigning && !environment.IsDevelopment())
        {
            throw new InvalidOperationException(
                "No encryption certificate is configured. The server makes and rotates its own signing keys (Keys:Mode=Automatic) " +
                "and stores them encrypted: it needs an encryption certificate to protect them. Set Certificates:Encryption:0:Path and " +
                "Certificates:Encryption:0:Password (environment variables Certificates__Encryption__0__Path, ...). certs/README.md " +
                "explains how to create it.");
        }

        if (!automaticSigning && signing.Count > 0 && encryption.Count > 0)
        {
            var (signingCertificates, activeSigning) = LoadList(options.Signing, environment.ContentRootPath, "Certificates:Signing", now, signing: true);
            var (encryptionCertificates, activeEncryption) = LoadList(options.Encryption, environment.ContentRootPath, "Certificates:Encryption", now, signing: false);
            return new CertificateSet(signingCertificates, encryptionCertificates,
                activeSigning.GetValueOrDefault(KeyKind.Rsa), activeEncryption.GetValueOrDefault(KeyKind.Rsa),
                activeSigning.GetValueOrDefault(KeyKind.EcP256));
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
        if (automaticSigning)
        {
            return new CertificateSet([],
                [LoadOrCreateDevelopment(Path.Combine(folder, EncryptionFile), () => Create("IdP Development Encryption", X509KeyUsageFlags.KeyEncipherment, Now(), Now().AddYears(2)))],
                ActiveRsaSigning: null,
                ActiveEncryption: null);
        }
        // An ECDSA P-256 signing certificate next to the RSA one, so that every access token algorithm
        // works in Development without more settings.
        return new CertificateSet(
            [
                LoadOrCreateDevelopment(Path.Combine(folder, SigningFile), () => Create("IdP Development Signing", X509KeyUsageFlags.DigitalSignature, Now(), Now().AddYears(2))),
                LoadOrCreateDevelopment(Path.Combine(folder, EcSigningFile), () => CreateEcdsa("IdP Development Signing (ECDSA P-256)", Now(), Now().AddYears(2))),
            ],
            [LoadOrCreateDevelopment(Path.Combine(folder, EncryptionFile), () => Create("IdP Development Encryption", X509KeyUsageFlags.KeyEncipherment, Now(), Now().AddYears(2)))],
            ActiveRsaSigning: null,
            ActiveEncryption: null);

        static DateTimeOffset Now() => DateTimeOffset.UtcNow.AddMinutes(-5);
    }

    /// <summary>
    /// Loads one list (entries without a path are skipped) and finds the entry marked Active, if any, per
    /// key kind: the signing list may hold one active RSA and one active ECDSA P-256 certificate, since
    /// they sign different tokens (ID tokens always RSA; access tokens as IdentityServer:AccessTokenAlgorithm says).
    /// </summary>
    private static (IReadOnlyList<X509Certificate2> Certificates, Dictionary<KeyKind, X509Certificate2> Active) LoadList(
        List<CertificateFile> files, string contentRoot, string section, DateTimeOffset now, bool signing)
    {
        var certificates = new List<X509Certificate2>();
        var active = new Dictionary<KeyKind, X509Certificate2>();
        var activeIndex = new Dictionary<KeyKind, int>();
        for (var index = 0; index < files.Count; index++)
        {
            var file = files[index];
            if (string.IsNullOrWhiteSpace(file.Path))
            {
                continue;
            }
            var setting = $"{section}:{index}";
            var (certificate, kind) = LoadFile(file, contentRoot, setting, signing);
            certificates.Add(certificate);
            if (!file.Active)
            {
                continue;
            }
            if (activeIndex.TryGetValue(kind, out var first))
            {
                throw new InvalidOperationException(signing
                    ? $"{section}:{first} and {setting} are both marked Active {KindName(kind)} certificates; mark at most one of each key type (RSA, ECDSA P-256)."
                    : $"{section}:{first} and {setting} are both marked Active; mark at most one certificate of the list.");
            }
            // An active certificate that is not valid yet (or any more) would be skipped by token
            // validators: refuse to start rather than issue tokens nobody accepts.
            if (!certificate.IsValidAt(now))
            {
                throw new InvalidOperationException(
                    $"{setting} is marked Active but is valid only from {certificate.NotBefore.ToUniversalTime():u} to {certificate.NotAfter.ToUniversalTime():u}.");
            }
            activeIndex[kind] = index;
            active[kind] = certificate;
        }
        return (certificates, active);
    }

    private static (X509Certificate2 Certificate, KeyKind Kind) LoadFile(CertificateFile file, string contentRoot, string setting, bool signing)
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

        if (!certificate.HasPrivateKey)
        {
            throw new InvalidOperationException($"{setting}: '{path}' holds no private key.");
        }
        var kind = SigningKeys.IsRsa(certificate) ? KeyKind.Rsa
            : signing && SigningKeys.IsEcP256(certificate) ? KeyKind.EcP256
            : throw new InvalidOperationException(signing
                ? $"{setting}: '{path}' must hold an RSA or an ECDSA P-256 certificate with its private key (ES256 needs the P-256 curve)."
                : $"{setting}: '{path}' must hold an RSA certificate with its private key.");
        // Signing keys reach OpenIddict as keys, not certificates, so the key usage is checked here.
        if (signing && certificate.Extensions.OfType<X509KeyUsageExtension>().Any(static e => !e.KeyUsages.HasFlag(X509KeyUsageFlags.DigitalSignature)))
        {
            throw new InvalidOperationException($"{setting}: '{path}' lacks the digitalSignature key usage a signing certificate needs.");
        }
        return (certificate, kind);
    }

    private static string KindName(KeyKind kind) => kind == KeyKind.Rsa ? "RSA" : "ECDSA P-256";

    private enum KeyKind
    {
        Rsa,
        EcP256,
    }

    private static X509Certificate2 LoadOrCreateDevelopment(string path, Func<X509Certificate2> create)
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
        using var certificate = create();
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

    /// <summary>Creates a self-signed ECDSA P-256 signing certificate (ES256).</summary>
    public static X509Certificate2 CreateEcdsa(string subject, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", ecdsa, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        return request.CreateSelfSigned(notBefore, notAfter);
    }
}
