using IdentityServer.Data;
using Quartz;

namespace IdentityServer.Scheduling;

internal static class SchedulerSetup
{
    /// <summary>
    /// The one Quartz scheduler every background job runs on; each feature calls this before
    /// scheduling its jobs, and only the first call registers anything. On SQLite (one node) the
    /// schedule lives in memory. On PostgreSQL it lives in the application's database, in Quartz's
    /// own <c>qrtz_</c> tables (created at start, outside EF Core's model and migrations), and the
    /// nodes form a cluster: each firing runs on exactly one node, and when a node stops checking in
    /// another takes over its triggers and interrupted jobs.
    /// </summary>
    public static WebApplicationBuilder AddScheduler(this WebApplicationBuilder builder)
    {
        if (builder.Services.Any(static d => d.ServiceType == typeof(SchedulerRegistered)))
        {
            return builder;
        }
        builder.Services.AddSingleton<SchedulerRegistered>();

        // Wall-clock time whatever TimeProvider the application registers: cluster nodes compare
        // each other's check-in stamps, and triggers are set against DateTimeOffset.UtcNow.
        builder.Services.AddQuartz(static quartz => quartz.UseTimeProvider(TimeProvider.System));

        var section = builder.Configuration.GetSection(SchedulerOptions.Section);
        builder.Services.AddOptions<SchedulerOptions>()
            .Bind(section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        if (DatabaseSetup.ReadProvider(builder.Configuration) == DatabaseProvider.Postgres)
        {
            var options = section.Get<SchedulerOptions>() ?? new SchedulerOptions();
            var connectionString = builder.Configuration.GetConnectionString("Default");
            builder.Services.AddQuartz(quartz =>
            {
                quartz.ConfigureScheduler(scheduler => scheduler.InstanceId = options.EffectiveInstanceId);
                quartz.UsePersistentStore(store =>
                {
                    store.UsePostgres(connectionString!);
                    store.UseSystemTextJsonSerializer();
                    store.UseClustering(clustering =>
                    {
                        clustering.CheckinInterval = options.CheckinInterval;
                        clustering.CheckinMisfireThreshold = options.CheckinInterval;
                    });
                    // Nodes starting together are safe: the loser of the race finds the winner's tables.
                    store.ProvisionSchema();
                });
            });
        }
        else
        {
            builder.Services.AddQuartz(static quartz => quartz.UseInMemoryStore());
        }
        builder.Services.AddHostedService<SchedulerHostedService>();
        return builder;
    }

    /// <summary>
    /// Registers <typeparamref name="TJob"/> (durable, so it may also be triggered by key) and a trigger
    /// that fires it every <paramref name="interval"/>, first one interval after start. The trigger is
    /// put in place by <see cref="SchedulerHostedService"/> when the scheduler starts.
    /// </summary>
    public static WebApplicationBuilder AddRecurringJob<TJob>(this WebApplicationBuilder builder, JobKey job, string trigger, TimeSpan interval)
        where TJob : IJob
    {
        builder.AddScheduler();
        builder.Services.AddQuartz(quartz => quartz.AddJob<TJob>(options => options.WithIdentity(job).StoreDurably()));
        builder.Services.AddSingleton(new RecurringTrigger(new TriggerKey(trigger), job, interval));
        return builder;
    }

    /// <summary>Marks the scheduler as registered, so a second feature's call adds nothing.</summary>
    private sealed class SchedulerRegistered;
}
