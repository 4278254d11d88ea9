using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;

namespace IdentityServer.Certificates;

/// <summary>
/// Puts the certificates configured as Active first in OpenIddict's credential lists. OpenIddict signs
/// (and encrypts) with the first credential of each list, after sorting them by validity (the valid one
/// that expires last first); this runs after that sort, so an operator's explicit choice wins while
/// every other certificate stays published in the JWKS and usable for validation and decryption.
/// The first signing credential is always an RSA one: OpenIddict's sort puts valid X.509 keys before the
/// ECDSA keys (bare keys, see <see cref="SigningKeys"/>), and only the active RSA certificate is moved
/// here, so the token types OpenIddict signs by default stay RS256; the ECDSA key is taken only by
/// <see cref="Authorization.TokenSigningCredentials"/> for ES256 access tokens.
/// </summary>
internal sealed class ActiveCredentials(CertificateSet certificates) : IPostConfigureOptions<OpenIddictServerOptions>
{
    public void PostConfigure(string? name, OpenIddictServerOptions options)
    {
        MoveFirst(options.SigningCredentials, certificates.ActiveRsaSigning);
        MoveFirst(options.EncryptionCredentials, certificates.ActiveEncryption);
    }

    private static void MoveFirst<TCredentials>(List<TCredentials> credentials, X509Certificate2? active)
        where TCredentials : class
    {
        if (active is null)
        {
            return;
        }
        var index = credentials.FindIndex(c => KeyOf(c) is X509SecurityKey { Certificate: { } certificate }
            && certificate.Thumbprint == active.Thumbprint);
        if (index <= 0)
        {
            return;
        }
        var chosen = credentials[index];
        credentials.RemoveAt(index);
        credentials.Insert(0, chosen);
    }

    private static SecurityKey? KeyOf<TCredentials>(TCredentials credentials) => credentials switch
    {
        SigningCredentials signing => signing.Key,
        EncryptingCredentials encrypting => encrypting.Key,
        _ => null,
    };
}
