using System.Globalization;
using System.Security.Claims;
using Microsoft.Extensions.Options;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.TwoFactor;

/// <summary>
/// Whether the signed-in user proved who they are recently (<c>auth_time</c> of the session's
/// cookie within <c>TwoFactor:FreshSignIn</c>). Setting up or turning off the authenticator needs
/// it, so a browser left signed in cannot be used to take over or weaken the account; otherwise the
/// user goes through the sign-in page again (password, and the code when the authenticator is on),
/// which keeps their session and renews its <c>auth_time</c>.
/// </summary>
internal sealed class FreshSignIn(IOptions<TwoFactorOptions> options, TimeProvider clock)
{
    public bool IsFresh(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return long.TryParse(user.FindFirst(Claims.AuthenticationTime)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var signedIn)
            && clock.GetUtcNow().ToUnixTimeSeconds() - signedIn <= (long)options.Value.FreshSignIn.TotalSeconds;
    }

    /// <summary>How long a fresh sign-in lasts, in minutes, for the page's text.</summary>
    public int Minutes => (int)Math.Ceiling(options.Value.FreshSignIn.TotalMinutes);
}
