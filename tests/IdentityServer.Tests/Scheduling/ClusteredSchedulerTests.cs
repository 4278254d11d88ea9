using IdentityServer.BackchannelLogout;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Quartz;

namespace IdentityServer.Tests.Scheduling;

/// <summary>
/// Two nodes on one database, both running Quartz. On PostgreSQL they form one cluster; on SQLite
/// each keeps its schedule in memory, which these tests then assert instead.
/// </summary>
public sealed class ClusteredSchedulerTests
{
    private static bool OnPostgres => IdentityServerFactory.Provider == TestDatabaseProvider.Postgres;

    /// <summary>A node whose own timers stay quiet during a test: only manual triggers fire.</summary>
    private static IdentityServerFactory Node(IdentityServerFactory? first = null)
    {
        var node = new IdentityServerFactory();
        node.Settings["Pruning:Interval"] = "1.00:00:00";
        node.Settings["BackchannelLogout:PollInterval"] = "01:00:00";
        node.Settings["Scheduler:CheckinInterval"] = "00:00:01";
        if (first is not null)
        {
            node.Settings["ConnectionStrings:Default"] = first.ConnectionString;
            node.Settings["DataProtection:KeysPath"] = first.Settings["DataProtection:KeysPath"];
        }
        return node;
    }

    private static async Task<IScheduler> StartedSchedulerAsync(IdentityServerFactory node)
    {
        _ = node.Server;
        var scheduler = await node.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (scheduler.Status != SchedulerStatus.Running)
        {
            await Task.Delay(50, deadline.Token);
        }
        return scheduler;
    }

    private static ExecutionCounter Count(IScheduler scheduler, string node)
    {
        var counter = new ExecutionCounter(node, BackchannelLogoutOutbox.JobKey);
        scheduler.ListenerManager.AddJobListener(counter, [counter]);
        return counter;
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (!condition())
        {
            await Task.Delay(50, deadline.Token);
        }
    }

    [Fact]
    public async Task Scheduler_TwoNodesOnOneDatabase_FormOneClusterOnPostgresAndStayInMemoryOnSqlite()
    {
        using var first = Node();
        using var second = Node(first);
        var one = await StartedSchedulerAsync(first);
        var two = await StartedSchedulerAsync(second);

        var metadata = await one.GetMetadata();
        if (!OnPostgres)
        {
            Assert.False(metadata.JobStoreClustered);
            Assert.False(metadata.JobStorePersistent);
            Assert.Equal(one.SchedulerInstanceId, Assert.Single(await one.QueryClusterNodes()).InstanceId);
            return;
        }

        Assert.True(metadata.JobStoreClustered);
        Assert.True(metadata.JobStorePersistent);
        Assert.Equal(first.Settings["Scheduler:InstanceId"], one.SchedulerInstanceId);
        Assert.Equal(second.Settings["Scheduler:InstanceId"], two.SchedulerInstanceId);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        IReadOnlyCollection<ClusterNode> nodes;
        while ((nodes = await one.QueryClusterNodes()).Count(n => n.State == ClusterNodeState.Alive) < 2)
        {
            await Task.Delay(100, deadline.Token);
        }
        Assert.Equal(
            new[] { one.SchedulerInstanceId, two.SchedulerInstanceId }.Order(StringComparer.Ordinal),
            nodes.Select(n => n.InstanceId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Scheduler_QuartzTables_AreOutsideTheEfModelAndItsMigrations()
    {
        using var node = Node();
        await StartedSchedulerAsync(node);

        var (tables, pendingChanges, pendingMigrations) = await node.WithScopeAsync(async services =>
        {
            var context = services.GetRequiredService<ApplicationDbContext>();
            return (context.Model.GetEntityTypes().Select(e => e.GetTableName()).OfType<string>().ToList(),
                context.Database.HasPendingModelChanges(),
                (await context.Database.GetPendingMigrationsAsync()).ToList());
        });
        Assert.DoesNotContain(tables, t => t.StartsWith("qrtz_", StringComparison.OrdinalIgnoreCase));
        Assert.False(pendingChanges);
        Assert.Empty(pendingMigrations);
        if (!OnPostgres)
        {
            return;
        }

        // Quartz made its own tables in the application's database, beside EF Core's.
        await using var connection = new NpgsqlConnection(node.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'qrtz\\_%'", connection);
        Assert.True((long)(await command.ExecuteScalarAsync())! >= 10);
    }

    [Fact]
    public async Task Scheduler_TwoNodes_EachManualTriggerRunsOnExactlyOneNode()
    {
        using var first = Node();
        using var second = Node(first);
        var one = await StartedSchedulerAsync(first);
        var two = await StartedSchedulerAsync(second);
        var onOne = Count(one, "first");
        var onTwo = Count(two, "second");

        const int Triggers = 6;
        for (var i = 0; i < Triggers; i++)
        {
            // Either node may trigger (a session ends on whichever node served the request).
            await (i % 2 == 0 ? one : two).TriggerJob(BackchannelLogoutOutbox.JobKey);
        }
        var executions = () => onOne.Executions.Concat(onTwo.Executions).ToList();
        await WaitForAsync(() => executions().Count >= Triggers, TimeSpan.FromSeconds(60));
        // Long enough for a duplicate run on the other node to show.
        await Task.Delay(TimeSpan.FromSeconds(3));

        var all = executions();
        Assert.Equal(Triggers, all.Count);
        Assert.Equal(all.Count, all.Select(e => e.FireInstanceId).Distinct(StringComparer.Ordinal).Count());
        if (!OnPostgres)
        {
            // In memory, a node runs only what it was asked to run itself.
            Assert.Equal(Triggers / 2, onOne.Executions.Count);
            Assert.Equal(Triggers / 2, onTwo.Executions.Count);
        }
    }

    [Fact]
    public async Task Scheduler_OneNodeStops_TheOtherStillRunsTriggeredJobs()
    {
        using var first = Node();
        var second = Node(first);
        var one = await StartedSchedulerAsync(first);
        await StartedSchedulerAsync(second);
        var onOne = Count(one, "first");

        second.Dispose();

        await one.TriggerJob(BackchannelLogoutOutbox.JobKey);
        await WaitForAsync(() => !onOne.Executions.IsEmpty, TimeSpan.FromSeconds(60));
        Assert.Single(onOne.Executions);
        if (OnPostgres)
        {
            // The stopped node left the cluster rather than lingering as a node that might take work.
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while ((await one.QueryClusterNodes()).Count > 1)
            {
                await Task.Delay(100, deadline.Token);
            }
        }
    }

    [Fact]
    public async Task RecurringTrigger_AnotherNodeStarting_KeepsTheScheduleUnlessTheIntervalChanged()
    {
        var key = new TriggerKey("prune-every-interval");
        using var first = Node();
        var one = await StartedSchedulerAsync(first);
        var scheduled = Assert.IsType<ISimpleTrigger>(await one.GetTrigger(key), exactMatch: false);
        Assert.Equal(TimeSpan.FromDays(1), scheduled.RepeatInterval);

        using var second = Node(first);
        var two = await StartedSchedulerAsync(second);
        var seenBySecond = Assert.IsType<ISimpleTrigger>(await two.GetTrigger(key), exactMatch: false);
        if (!OnPostgres)
        {
            // Each node has its own in-memory schedule.
            Assert.Equal(TimeSpan.FromDays(1), seenBySecond.RepeatInterval);
            return;
        }
        // The second node's start did not push the next firing back: it is the first node's trigger.
        Assert.Equal(scheduled.StartTimeUtc, seenBySecond.StartTimeUtc);

        using var third = Node(first);
        third.Settings["Pruning:Interval"] = "12:00:00";
        var three = await StartedSchedulerAsync(third);
        var changed = Assert.IsType<ISimpleTrigger>(await three.GetTrigger(key), exactMatch: false);
        Assert.Equal(TimeSpan.FromHours(12), changed.RepeatInterval);
        Assert.Equal(TimeSpan.FromHours(12), Assert.IsType<ISimpleTrigger>(await one.GetTrigger(key), exactMatch: false).RepeatInterval);
    }

    [Fact]
    public async Task Stop_DatabaseGone_NodeStillStopsWithinTheHostShutdownTimeout()
    {
        // A frequent delivery poll keeps a trigger acquired by the scheduler thread at all times:
        // with the database gone, releasing it at shutdown is what Quartz retries without end.
        var node = new IdentityServerFactory();
        node.Settings["Scheduler:CheckinInterval"] = "00:00:01";
        node.Settings["BackchannelLogout:PollInterval"] = "00:00:05";
        await StartedSchedulerAsync(node);
        node.RemoveDatabase();
        await Task.Delay(TimeSpan.FromSeconds(2));

        // Before the bounded stop, this stop never ended when Quartz had a trigger in hand (most runs);
        // now it ends by the shutdown timeout at the latest, with a warning (EventId 4300) when cut short.
        var host = node.Services.GetRequiredService<IHost>();
        await host.StopAsync().WaitAsync(IdentityServerFactory.ShutdownTimeout * 4);
        node.Dispose();
        Assert.DoesNotContain(node.Logs.Entries, static e => e.Level >= LogLevel.Error && e.Category.StartsWith("Microsoft.Extensions.Hosting", StringComparison.Ordinal));
    }
}
