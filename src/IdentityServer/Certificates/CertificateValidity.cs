using System.Security.Cryptography.X509Certificates;

namespace IdentityServer.Certificates;

internal static class CertificateValidity
{
    /// <summary>Whether <paramref name="now"/> lies in the certificate's validity period (RFC 5280: NotBefore through NotAfter, inclusive).</summary>
    public static bool IsValidAt(this X509Certificate2 certificate, DateTimeOffset now) =>
        certificate.NotBefore.ToUniversalTime() <= now.UtcDateTime && now.UtcDateTime <= certificate.NotAfter.ToUniversalTime();
}
