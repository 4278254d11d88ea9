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

        // The IdP cookie refers to a server-side session and expires with it. The session slides,
        // not the cookie handler: each request's ticket carries the session's current expiry (idle
        // timeout or absolute end, see SessionTicketStore.RetrieveAsync). The handler's own sliding
        // would re-issue a cookie for as long again as it had already lived, past the session's
        // absolute end; without it, Identity's security-stamp check (every 30 minutes) renews the
        // cookie from the time of renewal, so a persistent ("remember me") cookie is re-issued
        // with exactly the session's expiry.
        builder.Services.AddOptions<CookieAuthenticationOptions>(IdentityConstants.ApplicationScheme)
            .Configure<SessionTicketStore, IOptions<UserSessionOptions>>(static (cookie, store, sessions) =>
            {
                cookie.SessionStore = store;
                cookie.ExpireTimeSpan = sessions.Value.IdleTimeout;
                cookie.SlidingExpiration = false;
            });
        return builder;
    }
}
