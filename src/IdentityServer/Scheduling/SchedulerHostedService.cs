using Quartz;

namespace IdentityServer.Scheduling;

/// <summary>
/// Starts the Quartz scheduler with the host (after putting the recurring triggers in place) and stops
/// it when the host stops, waiting for running
/// jobs, but never longer than the host's shutdown timeout. Quartz's own hosted service waits without
/// bound, and with a clustered store whose database has gone away its scheduler thread retries
/// releasing a trigger until the store shuts down, which it only does after that thread ends: the node
/// would never exit. Giving up is safe: a job cut short is taken over by another node of the cluster
/// (or runs again at the next firing), and every job here can run twice.
/// </summary>
internal sealed partial class SchedulerHostedService(
    ISchedulerFactory schedulers, IEnumerable<RecurringTrigger> triggers, ILogger<SchedulerHostedService> logger) : IHostedService
{
    private IScheduler? _scheduler;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _scheduler = await schedulers.GetScheduler(cancellationToken);
        foreach (var trigger in triggers)
        {
            await trigger.EnsureAsync(_scheduler, DateTimeOffset.UtcNow, cancellationToken);
        }
        await _scheduler.Start(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_scheduler is null)
        {
            return;
        }
        try
        {
            await _scheduler.Shutdown(waitForJobsToComplete: true, cancellationToken).AsTask().WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogShutdownAbandoned(logger);
        }
        catch (ObjectDisposedException e)
        {
            // Seen only with several hosts in one process (the tests' two-node clusters): the job
            // store's last step resolves the scheduler lazily and may meet a container already
            // disposed. The scheduler thread and the jobs have stopped by then.
            LogShutdownIncomplete(logger, e);
        }
    }

    [LoggerMessage(EventId = 4300, Level = LogLevel.Warning,
        Message = "The job scheduler did not stop within the host's shutdown timeout (is the database reachable?); the node stops without it")]
    private static partial void LogShutdownAbandoned(ILogger logger);

    [LoggerMessage(EventId = 4301, Level = LogLevel.Warning,
        Message = "The job scheduler's last shutdown step failed; the node stops without it")]
    private static partial void LogShutdownIncomplete(ILogger logger, Exception exception);
}
