namespace IdentityServer.Certificates;

/// <summary>Signing and encryption certificates, bound from the <c>Certificates</c> configuration section.</summary>
public sealed class CertificateOptions
{
    public const string Section = "Certificates";

    /// <summary>
    /// Signing certificates. All are published in the JWKS; tokens are signed with the currently valid
    /// one that expires last, so a new certificate whose NotBefore lies in the future is published
    /// before it is used (see certs/README.md).
    /// </summary>
    public List<CertificateFile> Signing { get; set; } = [];

    /// <summary>Encryption certificates (authorization codes, refresh tokens, reference tokens); all can decrypt, the valid one that expires last encrypts.</summary>
    public List<CertificateFile> Encryption { get; set; } = [];

    /// <summary>Where Development creates its self-signed certificates when none are configured (relative to the content root).</summary>
    public string DevelopmentPath { get; set; } = "App_Data/certs";
}

public sealed class CertificateFile
{
    /// <summary>Path to a PKCS#12 (.pfx) file with the private key, relative to the content root or absolute.</summary>
    public string? Path { get; set; }

    public string? Password { get; set; }
}
