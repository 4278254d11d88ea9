using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using OpenIddict.Client;
using static OpenIddict.Abstractions.OpenIddictExceptions;

namespace ClientSamples.WebApp.Authentication;

/// <summary>
/// Redeems refresh tokens, at most once per token. The identity provider rotates refresh tokens: each use
/// returns a new one and the old one stops working, and presenting a used one again ends the whole
/// session as suspected theft. Two requests of one browser that arrive together carry the same cookie and
/// so the same refresh token; they share one redemption here, and for a minute afterwards a request still
/// carrying the old cookie gets the same new tokens instead of presenting the spent token again.
/// </summary>
internal sealed partial class TokenRefresher(OpenIddictClientService client, TimeProvider time, ILogger<TokenRefresher> logger)
{
    private static readonly TimeSpan KeepOutcome = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Entry> redemptions = new();

    public async Task<RefreshOutcome> RefreshAsync(string refreshToken)
    {
        var now = time.GetUtcNow();
        foreach (var (key, old) in redemptions)
        {
            if (now - old.Started > KeepOutcome)
            {
                redemptions.TryRemove(key, out _);
            }
        }

        // Lazy: GetOrAdd may run its factory twice under contention, but only one Lazy wins and runs.
        var entry = redemptions.GetOrAdd(Hash(refreshToken), _ => new Entry(now, new Lazy<Task<RefreshOutcome>>(() => RedeemAsync(refreshToken))));
        var outcome = await entry.Outcome.Value;
        if (outcome.Kind == RefreshOutcomeKind.Unavailable)
        {
            // A network failure says nothing about the token: let the next request try again.
            redemptions.TryRemove(new KeyValuePair<string, Entry>(Hash(refreshToken), entry));
        }
        return outcome;
    }

    private async Task<RefreshOutcome> RedeemAsync(string refreshToken)
    {
        try
        {
            // Not the request's cancellation token: other requests may be waiting for this redemption.
            var result = await client.AuthenticateWithRefreshTokenAsync(new() { RefreshToken = refreshToken, DisableUserInfo = true });
            LogRefreshed(result.AccessTokenExpirationDate);
            return new RefreshOutcome(RefreshOutcomeKind.Refreshed, result.AccessToken, result.AccessTokenExpirationDate,
                // Without a new refresh token (no rotation) the old one stays the one to use.
                result.RefreshToken ?? refreshToken, result.IdentityToken);
        }
        catch (ProtocolException exception)
        {
            // invalid_grant: the session ended, the grant was revoked, or the token expired.
            LogRefused(exception.Error, exception.ErrorDescription);
            return new RefreshOutcome(RefreshOutcomeKind.Refused, null, null, null, null);
        }
        catch (HttpRequestException exception)
        {
            LogUnavailable(exception.Message);
            return new RefreshOutcome(RefreshOutcomeKind.Unavailable, null, null, null, null);
        }
    }

    private static string Hash(string token) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Refreshed the access token; the new one expires at {Expires:O}")]
    private partial void LogRefreshed(DateTimeOffset? expires);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "The identity provider refused the refresh token ({Error}: {Description}); signing the user out")]
    private partial void LogRefused(string? error, string? description);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Could not reach the identity provider to refresh the access token: {Reason}")]
    private partial void LogUnavailable(string reason);

    private sealed record Entry(DateTimeOffset Started, Lazy<Task<RefreshOutcome>> Outcome);
}

internal enum RefreshOutcomeKind
{
    Refreshed,
    Refused,
    Unavailable,
}

internal sealed record RefreshOutcome(
    RefreshOutcomeKind Kind, string? AccessToken, DateTimeOffset? AccessTokenExpires, string? RefreshToken, string? IdentityToken);
