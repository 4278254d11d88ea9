using System.Security.Claims;
using IdentityServer.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;

namespace IdentityServer.TwoFactor;

/// <summary>
/// Carries a sign-in from the password to the second step in Identity's two-factor cookie
/// (<see cref="IdentityConstants.TwoFactorUserIdScheme"/>, configured in <see cref="TwoFactorSetup"/>):
/// data-protected, so the account it names cannot be forged or changed, bound to the browser that
/// typed the password, and valid for <c>TwoFactor:SecondStepTimeout</c>. The second step never
/// takes an account from the form.
/// </summary>
internal sealed class PendingSignIns(UserManager<ApplicationUser> users)
{
    private const string StampClaim = "idp_2fa_stamp";
    private const string RememberClaim = "idp_2fa_remember";

    public async Task StartAsync(HttpContext context, ApplicationUser user, bool remember)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(user);
        var identity = new ClaimsIdentity(IdentityConstants.TwoFactorUserIdScheme);
        // Where Identity's own reader of this cookie (GetTwoFactorAuthenticationUserAsync) looks for the account.
        identity.AddClaim(new Claim(ClaimTypes.Name, user.Id));
        identity.AddClaim(new Claim(StampClaim, await users.GetSecurityStampAsync(user)));
        if (remember)
        {
            identity.AddClaim(new Claim(RememberClaim, "true"));
        }
        await context.SignInAsync(IdentityConstants.TwoFactorUserIdScheme, new ClaimsPrincipal(identity));
    }

    /// <summary>The sign-in this browser has pending; null when none (never started, expired, or the account is gone).</summary>
    public async Task<PendingSignIn?> FindAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var cookie = await context.AuthenticateAsync(IdentityConstants.TwoFactorUserIdScheme);
        if (cookie.Principal?.FindFirst(ClaimTypes.Name)?.Value is not { } userId
            || cookie.Principal.FindFirst(StampClaim)?.Value is not { } stamp
            || await users.FindByIdAsync(userId) is not { } user)
        {
            return null;
        }
        return new PendingSignIn(user, stamp, cookie.Principal.HasClaim(RememberClaim, "true"));
    }

    public static Task EndAsync(HttpContext context) => context.SignOutAsync(IdentityConstants.TwoFactorUserIdScheme);
}
