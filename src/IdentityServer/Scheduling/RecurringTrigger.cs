using Quartz;

namespace IdentityServer.Scheduling;

/// <summary>A job that runs every <see cref="Interval"/>; see <see cref="SchedulerSetup.AddRecurringJob{TJob}"/>.</summary>
internal sealed record RecurringTrigger(TriggerKey Key, JobKey Job, TimeSpan Interval)
{
    public ITrigger Build(DateTimeOffset now) => TriggerBuilder.Create()
        .WithIdentity(Key)
        .ForJob(Job)
        .StartAt(now + Interval)
        .WithSimpleSchedule(schedule => schedule
            .WithInterval(Interval)
            .RepeatForever()
            .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount))
        .Build();

    /// <summary>
    /// Puts this trigger in the scheduler's store, keeping one already there with the same interval.
    /// In a cluster the store is shared: replacing the trigger at every node's start would push the
    /// next firing back by one interval each time, and with restarts more frequent than the interval
    /// (a rolling deployment, autoscaling) the job would never run. A changed interval replaces it.
    /// </summary>
    public async Task EnsureAsync(IScheduler scheduler, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var existing = await scheduler.GetTrigger(Key, cancellationToken);
        if (existing is ISimpleTrigger simple && simple.RepeatInterval == Interval && simple.JobKey.Equals(Job))
        {
            return;
        }
        if (existing is not null)
        {
            await scheduler.RescheduleJob(Key, Build(now), cancellationToken);
            return;
        }
        try
        {
            await scheduler.ScheduleJob(Build(now), cancellationToken: cancellationToken);
        }
        catch (ObjectAlreadyExistsException)
        {
            // Another node starting at the same moment stored it first.
        }
    }
}
