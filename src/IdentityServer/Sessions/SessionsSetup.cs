using IdentityServer.Audit;
using IdentityServer.BackchannelLogout;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IdentityServer.Sessions;

internal static class SessionsSetup
{
    public static WebApplicationBuilder AddSessions(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<UserSessionOptions>()
            .Bind(builder.Configuration.GetSection(UserSessionOptions.Section))
            .ValidateDataAnnotations()
            .Validate(static o => o.IdleTimeout <= o.AbsoluteLifetime, "Sessions:IdleTimeout must not be longer than Sessions:AbsoluteLifetime.")
            .Validate(static o => Enum.IsDefined(o.WhenLimitReached), "Sessions:WhenLimitReached must be EndOldest or Deny.")
            .ValidateOnStart();
        builder.Services.AddOptions<AuditOptions>()
            .Bind(builder.Configuration.GetSection(AuditOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddMemoryCache();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddScoped<AuditLog>();
        builder.Services.AddScoped<SessionService>();
        builder.Services.AddScoped<BackchannelLogoutOutbox>();
        builder.Services.AddSingleton<SessionTicketStore>();

        // The IdP cookie refers to a server-side session and lives as long as the session may stay idle.
        builder.Services.AddOptions<CookieAuthenticationOptions>(IdentityConstants.ApplicationScheme)
            .Configure<SessionTicketStore, IOptions<UserSessionOptions>>(static (cookie, store, sessions) =>
            {
                cookie.SessionStore = store;
                cookie.ExpireTimeSpan = sessions.Value.IdleTimeout;
                cookie.SlidingExpiration = true;
            });
        return builder;
    }
}
