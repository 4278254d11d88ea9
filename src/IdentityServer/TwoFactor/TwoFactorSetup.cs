using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IdentityServer.TwoFactor;

/// <summary>
/// The second factor: an authenticator app (TOTP, Identity's authenticator token provider) with
/// recovery codes. Pages: Account/Security (overview, new recovery codes, turn off),
/// Account/Authenticator (set up), Account/LoginWith2fa (the second sign-in step).
/// </summary>
internal static class TwoFactorSetup
{
    public static WebApplicationBuilder AddTwoFactor(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<TwoFactorOptions>()
            .Bind(builder.Configuration.GetSection(TwoFactorOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddScoped<AuthenticatorCodes>();
        builder.Services.AddScoped<SecondFactorCheck>();
        builder.Services.AddScoped<SecondFactorRefusals>();
        builder.Services.AddScoped<SecondFactors>();
        builder.Services.AddScoped<PendingSignIns>();
        builder.Services.AddSingleton<FreshSignIn>();

        // The cookie that carries a sign-in from its password to its second step (PendingSignIns).
        var secure = builder.Environment.IsDevelopment() ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
        builder.Services.AddOptions<CookieAuthenticationOptions>(IdentityConstants.TwoFactorUserIdScheme)
            .Configure<IOptions<TwoFactorOptions>>((cookie, options) =>
            {
                cookie.Cookie.Name = "idp.2fa";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SecurePolicy = secure;
                // Set by our own sign-in form and read by the page it redirects to: never needed cross-site.
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.ExpireTimeSpan = options.Value.SecondStepTimeout;
                // Wrong codes must not keep a half-finished sign-in alive.
                cookie.SlidingExpiration = false;
            });
        return builder;
    }
}
