namespace IdentityServer.Certificates;

/// <summary>Signing and encryption certificates, bound from the <c>Certificates</c> configuration section.</summary>
public sealed class CertificateOptions
{
    public const string Section = "Certificates";

    /// <summary>
    /// Signing certificates. All are published in the JWKS and accepted when validating tokens. The one
    /// marked <see cref="CertificateFile.Active"/> signs; when none is marked, the one that is valid at
    /// start-up and expires last signs, so a new certificate whose NotBefore lies in the future is
    /// published before it is used, from the first restart after its NotBefore (see certs/README.md).
    /// </summary>
    public List<CertificateFile> Signing { get; set; } = [];

    /// <summary>
    /// Encryption certificates (authorization codes, refresh tokens, reference tokens); all can decrypt.
    /// The one marked <see cref="CertificateFile.Active"/> encrypts, otherwise the valid one that expires last.
    /// </summary>
    public List<CertificateFile> Encryption { get; set; } = [];

    /// <summary>Where Development creates its self-signed certificates when none are configured (relative to the content root).</summary>
    public string DevelopmentPath { get; set; } = "App_Data/certs";
}

public sealed class CertificateFile
{
    /// <summary>Path to a PKCS#12 (.pfx) file with the private key, relative to the content root or absolute.</summary>
    public string? Path { get; set; }

    public string? Password { get; set; }

    /// <summary>
    /// Makes this certificate the one that signs (or encrypts); the others of its list are kept for
    /// validation (decryption) only. At most one per list, and it must be valid now.
    /// </summary>
    public bool Active { get; set; }
}
