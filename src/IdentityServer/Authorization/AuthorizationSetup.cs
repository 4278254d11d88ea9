using Microsoft.AspNetCore.DataProtection;
using IdentityServer.Certificates;
using IdentityServer.Keys;
using IdentityServer.Data;
using IdentityServer.Sessions;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Authorization;

internal static class AuthorizationSetup
{
    /// <summary>The scopes every deployment supports; API scopes come from the seed.</summary>
    public static readonly string[] StandardScopes = [Scopes.OpenId, Scopes.Profile, Scopes.Email, Scopes.OfflineAccess];

    public static WebApplicationBuilder AddAuthorizationServer(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<TokenOptions>()
            .Bind(builder.Configuration.GetSection(TokenOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddOptions<DPoPOptions>()
            .Bind(builder.Configuration.GetSection(DPoPOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        TokenOptions.CheckAccessTokenAlgorithm(builder.Configuration);
        var tokens = builder.Configuration.GetSection(TokenOptions.Section).Get<TokenOptions>() ?? new TokenOptions();
        var certificateOptions = builder.Configuration.GetSection(CertificateOptions.Section).Get<CertificateOptions>() ?? new CertificateOptions();
        var issuer = ConfiguredIssuer(tokens, builder.Environment);
        var automaticKeys = Keys.KeyOptions.EffectiveMode(builder.Configuration) == Keys.KeyMode.Automatic;
        var certificates = CertificateLoader.Load(certificateOptions, builder.Environment, DateTimeOffset.UtcNow, automaticKeys);
        if (!automaticKeys)
        {
            TokenSigningCredentials.CheckCertificates(tokens.AccessTokenAlgorithm, certificates, DateTimeOffset.UtcNow);
        }
        builder.AddSigningKeys();
        builder.Services.AddSingleton(certificates);

        // The data-protection keys (cookies, antiforgery) are stored encrypted with the encryption
        // certificate, so a copy of the key store (database rows, key folder) opens nothing by
        // itself. Every configured encryption certificate can decrypt them, which keeps keys readable
        // while an encryption certificate is rolled; the current one encrypts new keys.
        builder.Services.AddDataProtection()
            .ProtectKeysWithCertificate(certificates.CurrentEncryption(DateTimeOffset.UtcNow))
            .UnprotectKeysWithAnyCertificate([.. certificates.Encryption]);

        builder.Services.AddOpenIddict()
            .AddCore(options =>
            {
                options.UseEntityFrameworkCore().UseDbContext<ApplicationDbContext>();
                // Entities are read fresh: the EF store's optimistic concurrency (one winner among
                // concurrent redemptions) depends on each request tracking its own instance.
                options.DisableEntityCaching();
                options.ReplaceApplicationManager<OpenIddictEntityFrameworkCoreApplication, CachingApplicationManager>();
                options.ReplaceScopeManager<OpenIddictEntityFrameworkCoreScope, CachingScopeManager>();
                options.ReplaceTokenStore<OpenIddictEntityFrameworkCoreToken, TokenStore>(ServiceLifetime.Scoped);
                options.ReplaceAuthorizationStore<OpenIddictEntityFrameworkCoreAuthorization, AuthorizationStore>(ServiceLifetime.Scoped);
            })
            .AddServer(options =>
            {
                options.SetAuthorizationEndpointUris("connect/authorize")
                    .SetPushedAuthorizationEndpointUris("connect/par")
                    .SetTokenEndpointUris("connect/token")
                    .SetUserInfoEndpointUris("connect/userinfo")
                    .SetIntrospectionEndpointUris("connect/introspect")
                    .SetRevocationEndpointUris("connect/revoke")
                    .SetEndSessionEndpointUris("connect/endsession")
                    .SetDeviceAuthorizationEndpointUris("connect/device")
                    .SetEndUserVerificationEndpointUris("connect/verify")
                    .SetJsonWebKeySetEndpointUris(".well-known/jwks");

                options.AllowAuthorizationCodeFlow()
                    .AllowRefreshTokenFlow()
                    .AllowClientCredentialsFlow()
                    .AllowDeviceAuthorizationFlow()
                    .AllowTokenExchangeFlow();
                // Audiences are allowed per client (aud: permissions, TokenExchangeAudiences), not from one
                // server-wide list.
                options.DisableAudienceValidation();

                options.RegisterScopes([.. StandardScopes, Admin.AdminScope.Name]);
                options.RegisterClaims(
                    Claims.Subject, Claims.Name, Claims.PreferredUsername, Claims.Email, Claims.EmailVerified,
                    Claims.Role, Claims.AuthenticationTime, Claims.AuthenticationMethodReference, Claims.AuthenticationContextReference,
                    SessionService.SessionIdClaim);

                if (issuer is not null)
                {
                    options.SetIssuer(issuer);
                }

                options.SetAccessTokenLifetime(tokens.AccessTokenLifetime)
                    .SetIdentityTokenLifetime(tokens.IdentityTokenLifetime)
                    .SetRefreshTokenLifetime(tokens.RefreshTokenLifetime)
                    .SetAuthorizationCodeLifetime(tokens.AuthorizationCodeLifetime)
                    .SetDeviceCodeLifetime(tokens.DeviceCodeLifetime)
                    .SetUserCodeLifetime(tokens.DeviceCodeLifetime)
                    .SetRefreshTokenReuseLeeway(tokens.RefreshTokenReuseLeeway);
                options.SetUserCodeCharset(UserCodes.Charset)
                    .SetUserCodeLength(UserCodes.Length);

                // Signed, not encrypted: resource servers may validate access tokens locally with the JWKS.
                options.DisableAccessTokenEncryption();
                if (tokens.AccessTokenFormat == AccessTokenFormat.Reference)
                {
                    options.UseReferenceAccessTokens();
                }

                // RSA and ECDSA P-256 certificates alike; TokenSigningCredentials picks one per token type.
                // With Keys:Mode=Automatic there are none: SigningKeyRing adds the server's own keys.
                foreach (var certificate in certificates.Signing)
                {
                    options.AddSigningKey(SigningKeys.For(certificate));
                }
                // Still needed with data-protection tokens: the key ring is encrypted with it, and
                // refresh tokens issued as JWEs before data-protection tokens stay readable until they expire.
                foreach (var certificate in certificates.Encryption)
                {
                    options.AddEncryptionCertificate(certificate);
                }

                // Tokens that only this server ever reads (refresh tokens, the payloads behind
                // authorization, device and user codes, request tokens) are data-protection payloads:
                // AES-256-CBC with HMAC-SHA256 under the shared key ring (0.02 ms to protect or open),
                // instead of JWEs costing an RSA signature and an RSA-OAEP decryption (0.35 ms each)
                // for nobody else's benefit. Tokens that others read stay JWTs signed with the signing
                // certificate: access tokens (APIs validate them with the JWKS) and ID tokens.
                options.UseDataProtection()
                    .PreferDefaultAccessTokenFormat();

                var aspNetCore = options.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableUserInfoEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    .EnableEndUserVerificationEndpointPassthrough()
                    // Errors that cannot be returned to the client (unknown client, unregistered
                    // redirect_uri) are rendered by our own error page instead of a plain-text body;
                    // AuthorizationErrorRedirect returns every other authorization error to the client.
                    .EnableErrorPassthrough();

                if (builder.Environment.IsDevelopment())
                {
                    // Development runs on plain-HTTP loopback so that one command starts it on a fresh machine.
                    aspNetCore.DisableTransportSecurityRequirement();
                }

                foreach (var descriptor in ServerEventHandlers.Replaced)
                {
                    options.RemoveEventHandler(descriptor);
                }
                foreach (var descriptor in ServerEventHandlers.All(issuer))
                {
                    options.AddEventHandler(descriptor);
                }

                options.Configure(server =>
                {
                    // How long a pushed request's request_uri may be used (RFC 9126 2.2).
                    server.RequestTokenLifetime = tokens.PushedAuthorizationRequestLifetime;
                    // PKCE with S256 only: "plain" offers no protection if the request is observed.
                    server.CodeChallengeMethods.Remove(CodeChallengeMethods.Plain);
                    // Token exchange (RFC 8693) takes access tokens only, and no actor token: the actor is
                    // always the authenticated client (TokenExchange).
                    server.SubjectTokenTypes.RemoveWhere(static type => type != TokenTypeIdentifiers.AccessToken);
                    server.ActorTokenTypes.Clear();
                    // There is one account per browser session; do not advertise account selection.
                    server.PromptValues.Remove(PromptValues.SelectAccount);
                });
            });

        // Registered after OpenIddict's own post-configuration, which sorts the credentials by validity.
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IPostConfigureOptions<OpenIddict.Server.OpenIddictServerOptions>>(
            new ActiveCredentials(certificates));

        builder.Services.AddSingleton<ClientSecretCache>();
        builder.Services.AddSingleton(typeof(LookupCache<>));
        builder.Services.AddSingleton<ClientAndScopeChanges>();
        builder.Services.AddHostedService<ClientAndScopeChangeListener>();
        builder.Services.AddScoped<PrincipalFactory>();
        builder.Services.AddScoped<TokenWriteBatch>();
        builder.Services.AddScoped<RefreshTokenRotation>();
        builder.Services.AddScoped<ReauthenticationMarkers>();
        builder.Services.AddScoped<OneTimeUse>();
        builder.Services.AddScoped<TokenExchange>();
        builder.Services.AddSingleton<DPoPNonces>();
        builder.Services.AddScoped<DPoPRequestProofs>();
        builder.Services.AddOptions<RemoteKeySetOptions>()
            .Bind(builder.Configuration.GetSection(RemoteKeySetOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<RemoteKeySets>();
        AddKeySetClient(builder.Services, RemoteKeySets.HttpClientName, allowPrivateNetworks: false);
        AddKeySetClient(builder.Services, RemoteKeySets.PrivateNetworksHttpClientName, allowPrivateNetworks: true);
        return builder;
    }

    /// <summary>
    /// Outside Development the issuer is configuration, never the request: taken from the request it
    /// would follow whatever Host header a client sends, into tokens' <c>iss</c>, the authorization
    /// response's <c>iss</c> and every endpoint URL in discovery. Development alone derives it from the
    /// request, so that one command runs on any port.
    /// </summary>
    internal static Uri? ConfiguredIssuer(TokenOptions tokens, IHostEnvironment environment)
    {
        const string Setting = TokenOptions.Section + ":Issuer";
        if (tokens.Issuer is not { } issuer)
        {
            return environment.IsDevelopment() ? null : throw new InvalidOperationException(
                $"{Setting} is not set. Outside Development the server needs its public URL as issuer (for example https://id.example.com/); it never takes the issuer from the request's Host header.");
        }
        // OpenID Connect Discovery 1.0, section 3: an https URL with no query or fragment.
        if (!issuer.IsAbsoluteUri || !string.IsNullOrEmpty(issuer.Query) || !string.IsNullOrEmpty(issuer.Fragment)
            || !string.IsNullOrEmpty(issuer.UserInfo) || (issuer.Scheme != Uri.UriSchemeHttps && !environment.IsDevelopment()))
        {
            throw new InvalidOperationException(
                $"{Setting} '{issuer.OriginalString}' must be an absolute https URL without user info, query or fragment.");
        }
        return issuer;
    }

    /// <summary>
    /// The client used to fetch clients' key sets: no redirect, no proxy, no cookie, and the back-channel
    /// connector's address checks; one per target policy so that their connection pools stay apart.
    /// </summary>
    private static void AddKeySetClient(IServiceCollection services, string name, bool allowPrivateNetworks) =>
        services.AddHttpClient(name, static client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                UseProxy = false,
                ConnectCallback = new BackchannelLogout.BackchannelLogoutConnector(allowPrivateNetworks).ConnectAsync,
            });

    public static WebApplication MapAuthorizationEndpoints(this WebApplication app)
    {
        app.MapTokenEndpoint();
        app.MapUserInfoEndpoint();
        return app;
    }
}
