using System.Threading.RateLimiting;
using IdentityServer.Admin;
using IdentityServer.Hosting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.RateLimiting;

/// <summary>
/// Rate limits (configuration section <c>RateLimits</c>): sign-in per address and per login, tokens
/// per authenticated client, failed client authentications per address, user-code entry per user,
/// and the admin API and pages per caller. Over a limit the answer is 429 with Retry-After.
/// </summary>
internal static class RateLimitSetup
{
    /// <summary>The endpoint policy of the admin API and the admin pages.</summary>
    public const string AdminPolicy = "admin";

    /// <summary>The OAuth endpoints where OpenIddict authenticates clients with their secret.</summary>
    private static readonly string[] ClientAuthenticationPaths = ["/connect/token", "/connect/introspect", "/connect/revoke", "/connect/device", "/connect/par"];

    public static WebApplicationBuilder AddRateLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>()
            .Bind(builder.Configuration.GetSection(RateLimitOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // The user-code limit was IdentityServer:UserCodeAttemptsPerMinute before there was a
        // RateLimits section; that key still counts unless the new one is set.
        if (builder.Configuration.GetValue<int?>("IdentityServer:UserCodeAttemptsPerMinute") is { } legacy
            && builder.Configuration[$"{RateLimitOptions.Section}:DeviceVerification:PermitLimit"] is null)
        {
            builder.Services.PostConfigure<RateLimitOptions>(options => options.DeviceVerification.PermitLimit = legacy);
        }

        builder.Services.AddSingleton<RateLimiters>();
        builder.Services.AddRateLimiter(static limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = static (context, _) => RejectAsync(context.HttpContext, context.Lease);
            limiter.AddPolicy(AdminPolicy, static context =>
            {
                var options = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
                if (!options.Enabled || options.Admin.PermitLimit == 0)
                {
                    return RateLimitPartition.GetNoLimiter(string.Empty);
                }
                // The admin (user id) or the automation (client id) acting; their address when anonymous.
                var caller = context.User.Identity?.IsAuthenticated == true && context.User.FindFirst(Claims.Subject)?.Value is { } subject
                    ? "sub:" + subject
                    : "ip:" + ClientAddress.PartitionKey(context);
                var bucket = RateLimiters.Bucket(options.Admin);
                return RateLimitPartition.GetTokenBucketLimiter(caller, _ => bucket);
            });
        });
        return builder;
    }

    /// <summary>
    /// Refuses clients from an address that has failed client authentication too often, before
    /// OpenIddict checks the secret (a wrong one costs a full PBKDF2 derivation), and counts each
    /// failure (401 invalid_client). Clients with the right secret spend nothing, whatever their rate.
    /// Runs before authentication, where OpenIddict handles these endpoints.
    /// </summary>
    public static WebApplication UseClientAuthenticationLimit(this WebApplication app)
    {
        app.UseWhen(
            static context => HttpMethods.IsPost(context.Request.Method)
                && context.Request.Path.StartsWithAny(ClientAuthenticationPaths),
            static branch => branch.Use(static async (context, next) =>
            {
                var limits = context.RequestServices.GetRequiredService<RateLimiters>();
                using (var lease = limits.CheckClientAuthentication(context))
                {
                    if (!lease.IsAcquired)
                    {
                        await RateLimitResponses.WriteOAuthErrorAsync(context, lease);
                        return;
                    }
                }
                await next(context);
                if (context.Response.StatusCode == StatusCodes.Status401Unauthorized)
                {
                    limits.RecordFailedClientAuthentication(context);
                }
            }));
        return app;
    }

    /// <summary>
    /// A refusal by an endpoint policy: the admin API gets a problem+json body like its other
    /// errors; pages get none, so the status-code page shows the friendly error page.
    /// </summary>
    private static async ValueTask RejectAsync(HttpContext context, RateLimitLease lease)
    {
        var seconds = RateLimitResponses.Refuse(context.Response, lease);
        if (context.Request.Path.StartsWithSegments(AdminApi.Prefix, StringComparison.OrdinalIgnoreCase))
        {
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = StatusCodes.Status429TooManyRequests,
                    Title = "Too many requests.",
                    Detail = $"Try again in {RateLimitResponses.Describe(seconds)}.",
                },
            });
        }
    }
}
