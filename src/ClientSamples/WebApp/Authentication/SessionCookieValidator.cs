using System.Globalization;
using ClientSamples.WebApp.BackchannelLogout;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using Tokens = OpenIddict.Client.AspNetCore.OpenIddictClientAspNetCoreConstants.Tokens;

namespace ClientSamples.WebApp.Authentication;

/// <summary>
/// Runs on every request that carries the app's cookie: refuses it when the identity provider said the
/// session ended (back-channel logout), and refreshes the access token shortly before it expires.
/// </summary>
internal sealed class SessionCookieValidator(
    EndedSessions endedSessions, TokenRefresher refresher, IOptions<WebAppSettings> settings, TimeProvider time)
{
    /// <summary>Set on a request whose cookie was refused, so that the page can say why.</summary>
    public const string SignedOutReasonKey = "samples.signed-out-reason";

    public async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal!;
        if (endedSessions.IsEnded(principal.FindFirst("sid")?.Value, principal.FindFirst("sub")?.Value, context.Properties.IssuedUtc))
        {
            await SignOutAsync(context, "Your session was ended at the identity provider.");
            return;
        }

        var expires = context.Properties.GetTokenValue(Tokens.BackchannelAccessTokenExpirationDate) is { } value &&
            DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                ? parsed
                : (DateTimeOffset?)null;
        if (expires is null || time.GetUtcNow() + settings.Value.RefreshBefore < expires)
        {
            return;
        }

        if (context.Properties.GetTokenValue(Tokens.RefreshToken) is not { } refreshToken)
        {
            await SignOutAsync(context, "Your access expired and this app cannot renew it.");
            return;
        }

        var outcome = await refresher.RefreshAsync(refreshToken);
        switch (outcome.Kind)
        {
            case RefreshOutcomeKind.Refreshed:
                context.Properties.UpdateTokenValue(Tokens.BackchannelAccessToken, outcome.AccessToken!);
                context.Properties.UpdateTokenValue(Tokens.BackchannelAccessTokenExpirationDate,
                    outcome.AccessTokenExpires?.ToString("O", CultureInfo.InvariantCulture) ?? "");
                // Always the newest: the previous refresh token no longer works.
                context.Properties.UpdateTokenValue(Tokens.RefreshToken, outcome.RefreshToken!);
                if (outcome.IdentityToken is { } idToken)
                {
                    context.Properties.UpdateTokenValue(Tokens.BackchannelIdentityToken, idToken);
                }
                // Re-issue the cookie with the new tokens.
                context.ShouldRenew = true;
                break;
            case RefreshOutcomeKind.Refused:
                await SignOutAsync(context, "Your session ended at the identity provider (the refresh was refused).");
                break;
            case RefreshOutcomeKind.Unavailable:
                // Keep the session: the current access token may still work, and the next request tries again.
                break;
        }
    }

    private static async Task SignOutAsync(CookieValidatePrincipalContext context, string reason)
    {
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(AuthenticationSetup.CookieScheme);
        context.HttpContext.Items[SignedOutReasonKey] = reason;
    }
}
