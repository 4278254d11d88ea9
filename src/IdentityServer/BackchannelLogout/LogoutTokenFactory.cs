using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IdentityServer.Authorization;
using IdentityServer.Certificates;
using IdentityServer.Sessions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.BackchannelLogout;

/// <summary>
/// Builds logout tokens (OpenID Connect Back-Channel Logout 1.0, section 2.4), signed with the key
/// OpenIddict signs ID tokens with, so a client verifies them with the keys it already fetched from
/// the JWKS endpoint.
/// </summary>
internal sealed class LogoutTokenFactory(
    IOptionsMonitor<OpenIddictServerOptions> server,
    IOptions<TokenOptions> tokens,
    IOptions<BackchannelLogoutOptions> options,
    Keys.SigningKeyRing ring,
    TimeProvider clock)
{
    /// <summary>The <c>typ</c> header: keeps a logout token from being accepted as an ID token and vice versa.</summary>
    public const string TokenType = "logout+jwt";

    public const string EventsClaim = "events";

    public const string LogoutEvent = "http://schemas.openid.net/event/backchannel-logout";

    // The handler would otherwise stamp iat/nbf/exp from the wall clock, not from TimeProvider.
    private readonly JsonWebTokenHandler handler = new() { SetDefaultTimesOnTokenCreation = false };

    public string Create(BackchannelLogoutDelivery delivery)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var now = clock.GetUtcNow();
        return handler.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = TokenType,
            // A fixed issuer wins, as it does for every other token; otherwise the one the session began under.
            Issuer = tokens.Value.Issuer?.AbsoluteUri ?? delivery.Issuer,
            Audience = delivery.ClientId,
            IssuedAt = now.UtcDateTime,
            Expires = (now + options.Value.TokenLifetime).UtcDateTime,
            SigningCredentials = CurrentSigningCredentials(now),
            // No nonce: the specification forbids it, so a logout token can never pass as an ID token.
            Claims = new Dictionary<string, object>
            {
                [Claims.JwtId] = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(16)),
                [Claims.Subject] = delivery.Subject,
                [SessionService.SessionIdClaim] = delivery.SessionId,
                [EventsClaim] = new Dictionary<string, object> { [LogoutEvent] = new Dictionary<string, object>() },
            },
        });
    }

    /// <summary>
    /// The automatic RSA key signing now (Keys:Mode=Automatic); with certificates, the first
    /// asymmetric key whose certificate is valid now: OpenIddict orders its signing
    /// credentials so that this is the key it signs ID tokens with during a certificate rollover.
    /// </summary>
    private SigningCredentials CurrentSigningCredentials(DateTimeOffset now)
    {
        if (ring.Current(Keys.SigningKeyRing.Rs256) is { } automatic)
        {
            return automatic;
        }
        var candidates = server.CurrentValue.SigningCredentials.Where(static c => c.Key is AsymmetricSecurityKey).ToList();
        return candidates.FirstOrDefault(c => c.Key is not X509SecurityKey { Certificate: var certificate } || certificate.IsValidAt(now))
            ?? candidates.FirstOrDefault()
            ?? throw new InvalidOperationException("No asymmetric signing key is configured: logout tokens cannot be signed.");
    }
}
