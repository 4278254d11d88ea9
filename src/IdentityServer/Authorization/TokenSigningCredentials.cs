using IdentityServer.Certificates;
using IdentityServer.Keys;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// Chooses the signature per token type (<see cref="TokenOptions.AccessTokenAlgorithm"/>): access tokens
/// with the configured algorithm, ID tokens always RS256 with the RSA certificate (the OpenID Connect
/// default every relying party supports). Every other token type keeps OpenIddict's choice, the first
/// signing credential, which <see cref="ActiveCredentials"/> keeps an RSA one.
/// <para>ES256 exists for cost: one P-256 signature is much cheaper than an RSA-2048 one, and signing is
/// a large share of a client_credentials request.</para>
/// </summary>
internal sealed class TokenSigningCredentials(CertificateSet certificates, IOptions<TokenOptions> tokens, IOptions<KeyOptions> keys, SigningKeyRing ring)
    : IOpenIddictServerHandler<GenerateTokenContext>
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
    [
        OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
            .UseSingletonHandler<TokenSigningCredentials>()
            // Right after OpenIddict attached its default credentials, before the token is built.
            .SetOrder(OpenIddictServerHandlers.Protection.AttachSecurityCredentials.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
            .UseSingletonHandler<IdTokenAlgorithmDiscovery>()
            .SetOrder(OpenIddictServerHandlers.Discovery.AttachSigningAlgorithms.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleJsonWebKeySetRequestContext>()
            .UseSingletonHandler<RsaKeyAlgorithm>()
            .SetOrder(OpenIddictServerHandlers.Discovery.AttachSigningKeys.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
    ];

    private readonly bool automatic = keys.Value.Mode == KeyMode.Automatic;

    // Certificates: chosen once, as OpenIddict chooses its default credential, at start-up.
    // Automatic keys: the ring's signing key at the moment of each token (all nodes switch together).
    private readonly string? rsaKeyId = certificates.CurrentRsaSigning(DateTimeOffset.UtcNow)?.Thumbprint;

    private readonly string? ecKeyId = certificates.CurrentEcSigning(DateTimeOffset.UtcNow)?.Thumbprint;

    private readonly AccessTokenAlgorithm algorithm = tokens.Value.AccessTokenAlgorithm;

    private (SigningCredentials Rsa, SigningCredentials AccessToken)? chosen;

    /// <summary>The PS256 view of the current RSA key, kept while that key signs.</summary>
    private SigningCredentials? pss;

    /// <summary>
    /// Refuses to start when the certificates cannot sign what is asked: an RSA certificate valid now is
    /// always needed (ID tokens), and an ECDSA P-256 one for ES256 access tokens.
    /// </summary>
    public static void CheckCertificates(AccessTokenAlgorithm algorithm, CertificateSet certificates, DateTimeOffset now)
    {
        if (certificates.CurrentRsaSigning(now) is null)
        {
            throw new InvalidOperationException(
                "Certificates:Signing holds no RSA certificate valid now. One is always needed: ID tokens are signed RS256 " +
                "whatever IdentityServer:AccessTokenAlgorithm says. certs/README.md explains how to create it.");
        }
        if (algorithm == AccessTokenAlgorithm.ES256 && certificates.CurrentEcSigning(now) is null)
        {
            throw new InvalidOperationException(
                "IdentityServer:AccessTokenAlgorithm is ES256 but Certificates:Signing holds no ECDSA P-256 certificate valid now. " +
                "Add one as another Certificates:Signing entry (certs/README.md explains how to create it), or choose RS256 or PS256.");
        }
    }

    public ValueTask HandleAsync(GenerateTokenContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (rsa, accessToken) = automatic ? FromRing() : chosen ??= Choose(context.Options.SigningCredentials);
        if (context.TokenType == TokenTypeIdentifiers.AccessToken)
        {
            context.SigningCredentials = accessToken;
        }
        else if (context.TokenType == TokenTypeIdentifiers.IdentityToken || (automatic && context.SigningCredentials is not null))
        {
            context.SigningCredentials = rsa;
        }
        return ValueTask.CompletedTask;
    }

    private (SigningCredentials Rsa, SigningCredentials AccessToken) FromRing()
    {
        var rsa = ring.Current(SigningKeyRing.Rs256) ?? throw new InvalidOperationException("No automatic RSA signing key is loaded.");
        return (rsa, algorithm switch
        {
            AccessTokenAlgorithm.RS256 => rsa,
            AccessTokenAlgorithm.PS256 => pss is { } known && known.Key == rsa.Key ? known : pss = new SigningCredentials(rsa.Key, SecurityAlgorithms.RsaSsaPssSha256),
            AccessTokenAlgorithm.ES256 => ring.Current(SigningKeyRing.Es256) ?? throw new InvalidOperationException("No automatic ECDSA signing key is loaded."),
            _ => throw new InvalidOperationException($"Unknown access token algorithm {algorithm}."),
        });
    }

    private (SigningCredentials Rsa, SigningCredentials AccessToken) Choose(List<SigningCredentials> credentials)
    {
        var rsa = Find(credentials, rsaKeyId ?? throw new InvalidOperationException("No RSA signing certificate is valid."));
        return (rsa, algorithm switch
        {
            AccessTokenAlgorithm.RS256 => rsa,
            // The same key, signed with RSASSA-PSS; not a credential of its own, so the JWKS lists the key once.
            AccessTokenAlgorithm.PS256 => new SigningCredentials(rsa.Key, SecurityAlgorithms.RsaSsaPssSha256),
            AccessTokenAlgorithm.ES256 => Find(credentials, ecKeyId ?? throw new InvalidOperationException("No ECDSA P-256 signing certificate is valid.")),
            _ => throw new InvalidOperationException($"Unknown access token algorithm {algorithm}."),
        });
    }

    private static SigningCredentials Find(List<SigningCredentials> credentials, string keyId) =>
        credentials.Find(c => string.Equals(c.Kid, keyId, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"The signing key {keyId} is not among OpenIddict's signing credentials.");

    /// <summary>
    /// <c>id_token_signing_alg_values_supported</c> names what ID tokens use (OpenID Connect Discovery 1.0,
    /// section 3), not every algorithm some key could sign with: OpenIddict would add ES256 for the ECDSA key.
    /// </summary>
    internal sealed class IdTokenAlgorithmDiscovery : IOpenIddictServerHandler<HandleConfigurationRequestContext>
    {
        public ValueTask HandleAsync(HandleConfigurationRequestContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            context.IdTokenSigningAlgorithms.Clear();
            context.IdTokenSigningAlgorithms.Add(SecurityAlgorithms.RsaSha256);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// With PS256 access tokens the RSA key signs two algorithms (RS256 ID tokens, PS256 access tokens), so
    /// its JWK carries no <c>alg</c> (RFC 7517 4.4 makes it optional): libraries that match a token's
    /// <c>alg</c> against the key's would otherwise refuse the access tokens.
    /// </summary>
    internal sealed class RsaKeyAlgorithm(IOptions<TokenOptions> tokens) : IOpenIddictServerHandler<HandleJsonWebKeySetRequestContext>
    {
        public ValueTask HandleAsync(HandleJsonWebKeySetRequestContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (tokens.Value.AccessTokenAlgorithm == AccessTokenAlgorithm.PS256)
            {
                foreach (var key in context.Keys.Where(static k => k.Kty == JsonWebAlgorithmsKeyTypes.RSA))
                {
                    key.Alg = null;
                }
            }
            return ValueTask.CompletedTask;
        }
    }
}
