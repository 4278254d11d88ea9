using IdentityServer.Data;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace IdentityServer.Hosting;

/// <summary>
/// Probes for a load balancer or orchestrator. <c>/health/live</c> says the process answers and
/// checks nothing else, so a database outage never gets healthy nodes restarted;
/// <c>/health/ready</c> says the node can serve, which needs the database. Both answer with the
/// plain-text status only (Healthy, Degraded, Unhealthy): no exception text, host or connection string.
/// </summary>
internal static class HealthSetup
{
    private const string ReadyTag = "ready";

    public static WebApplicationBuilder AddHealth(this WebApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks()
            .AddDbContextCheck<ApplicationDbContext>("database", tags: [ReadyTag]);
        return builder;
    }

    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = static _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = static check => check.Tags.Contains(ReadyTag) })
            .AllowAnonymous();
        return app;
    }
}
