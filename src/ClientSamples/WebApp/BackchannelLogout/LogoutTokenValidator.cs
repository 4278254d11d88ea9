using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Client;

namespace ClientSamples.WebApp.BackchannelLogout;

/// <summary>
/// Checks a logout token as OpenID Connect Back-Channel Logout 1.0 section 2.6 asks. OpenIddict's client
/// does not receive back-channel logout, so this uses its discovery cache (issuer and signing keys) and
/// IdentityModel's JWT handler, both already in use by the client.
/// </summary>
internal sealed class LogoutTokenValidator(OpenIddictClientService client, IOptions<WebAppSettings> settings, TimeProvider time)
{
    public const string BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout";

    // A logout token is sent within seconds of the session's end; an old one is a replay.
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    private readonly JsonWebTokenHandler handler = new();

    /// <summary>The token's <c>sid</c> and <c>sub</c> when it is valid; otherwise the reason it is not.</summary>
    public async Task<(string? Sid, string? Sub, string? Error)> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        var configuration = await client.GetServerConfigurationByIssuerAsync(settings.Value.Issuer, cancellationToken);
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = configuration.Issuer?.AbsoluteUri ?? settings.Value.Issuer.AbsoluteUri,
            // Meant for this app, not for another client of the same identity provider.
            ValidAudience = settings.Value.ClientId,
            IssuerSigningKeys = configuration.SigningKeys,
            // "typ: logout+jwt" keeps an ID token (same issuer, audience and keys) from being played as a logout token.
            ValidTypes = ["logout+jwt", "application/logout+jwt"],
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = ClockSkew,
        };

        var result = await handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid)
        {
            if (result.Exception is SecurityTokenSignatureKeyNotFoundException)
            {
                // The identity provider may have rolled its keys: read them again for its next attempt.
                var registration = await client.GetClientRegistrationByIssuerAsync(settings.Value.Issuer, cancellationToken);
                registration.ConfigurationManager?.RequestRefresh();
            }
            return (null, null, result.Exception?.Message ?? "invalid token");
        }

        var jwt = (JsonWebToken)result.SecurityToken;
        if (!jwt.TryGetPayloadValue<JsonElement>("events", out var events) || events.ValueKind != JsonValueKind.Object ||
            !events.TryGetProperty(BackchannelLogoutEvent, out var logoutEvent) || logoutEvent.ValueKind != JsonValueKind.Object)
        {
            return (null, null, "the events claim does not hold the back-channel logout event");
        }
        if (jwt.TryGetPayloadValue<object>("nonce", out _))
        {
            return (null, null, "a logout token must not carry a nonce");
        }
        var now = time.GetUtcNow().UtcDateTime;
        if (jwt.IssuedAt == DateTime.MinValue || jwt.IssuedAt > now + ClockSkew || now - jwt.IssuedAt > MaxAge)
        {
            return (null, null, "iat is missing or not recent");
        }
        var sid = jwt.TryGetPayloadValue<string>("sid", out var s) && !string.IsNullOrEmpty(s) ? s : null;
        var sub = jwt.TryGetPayloadValue<string>("sub", out var u) && !string.IsNullOrEmpty(u) ? u : null;
        if (sid is null && sub is null)
        {
            return (null, null, "neither sid nor sub is present");
        }
        return (sid, sub, null);
    }
}
