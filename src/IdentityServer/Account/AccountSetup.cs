using System.Security.Claims;
using IdentityServer.Authorization;
using IdentityServer.Data;
using IdentityServer.Email;
using IdentityServer.Sessions;
using Microsoft.AspNetCore.Identity;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Account;

internal static class AccountSetup
{
    public static WebApplicationBuilder AddAccounts(this WebApplicationBuilder builder)
    {
        builder.Services.AddIdentity<ApplicationUser, IdentityRole>(options =>
            {
                options.User.RequireUniqueEmail = true;
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
                options.Password.RequiredLength = 8;
                // Passkeys (Passkeys/) are stored in schema 3's AspNetUserPasskeys table.
                options.Stores.SchemaVersion = IdentitySchemaVersions.Version3;

                // Tokens carry OpenID Connect claim names, not the WS-* ones.
                options.ClaimsIdentity.UserNameClaimType = Claims.Name;
                options.ClaimsIdentity.UserIdClaimType = Claims.Subject;
                options.ClaimsIdentity.RoleClaimType = Claims.Role;
                options.ClaimsIdentity.EmailClaimType = Claims.Email;
            })
            .AddEntityFrameworkStores<ApplicationDbContext>()
            .AddUserValidator<MailAddresses>()
            .AddErrorDescriber<Localization.LocalizedIdentityErrors>()
            .AddDefaultTokenProviders();

        builder.Services.AddSingleton<UnknownAccountLockout>();
        builder.Services.AddSingleton<UnknownLoginNames>();
        builder.Services.AddScoped<AccountLockout>();
        builder.Services.AddScoped<PasswordSignIn>();
        builder.Services.AddScoped<SessionSignIn>();
        builder.Services.AddScoped<ConnectedApps>();

        // Plain-HTTP loopback is allowed only in Development (the one-command quick start).
        var secure = builder.Environment.IsDevelopment() ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;

        builder.Services.ConfigureApplicationCookie(options =>
        {
            options.Cookie.Name = "idp.session";
            options.Cookie.HttpOnly = true;
            options.Cookie.SecurePolicy = secure;
            // Lax: the cookie must accompany top-level navigations from client apps to /connect/authorize.
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.LoginPath = "/Account/Login";
            options.LogoutPath = "/Account/Logout";
            options.AccessDeniedPath = "/Account/AccessDenied";
            // Lifetime and ticket storage: see Sessions/SessionsSetup.cs.
        });
        builder.Services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "idp.antiforgery";
            options.Cookie.HttpOnly = true;
            options.Cookie.SecurePolicy = secure;
            options.Cookie.SameSite = SameSiteMode.Strict;
        });

        // Keep the session and when and how the user authenticated across security-stamp refreshes of the cookie.
        builder.Services.Configure<SecurityStampValidatorOptions>(options =>
            options.OnRefreshingPrincipal = context =>
            {
                if (context.NewPrincipal?.Identity is ClaimsIdentity identity && context.CurrentPrincipal is { } current)
                {
                    foreach (var type in new[] { Claims.AuthenticationTime, Claims.AuthenticationMethodReference, SessionService.SessionIdClaim })
                    {
                        // All of them: a sign-in with several methods has one amr claim each.
                        foreach (var claim in identity.HasClaim(c => c.Type == type) ? [] : current.FindAll(type))
                        {
                            identity.AddClaim(new Claim(claim.Type, claim.Value, claim.ValueType));
                        }
                    }
                }
                return Task.CompletedTask;
            });

        return builder;
    }
}
