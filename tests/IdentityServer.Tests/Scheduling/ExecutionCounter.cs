using System.Collections.Concurrent;
using Quartz;

namespace IdentityServer.Tests.Scheduling;

/// <summary>A job listener that records which firings of one job ran on the node it is attached to.</summary>
public sealed class ExecutionCounter(string node, JobKey job) : IJobListener, IMatcher<JobKey>
{
    public string Name { get; } = "execution-counter-" + node;

    /// <summary>Fire instance ids of the finished executions, each with the node that ran it.</summary>
    public ConcurrentBag<(string FireInstanceId, string Node)> Executions { get; } = [];

    public bool IsMatch(JobKey key) => job.Equals(key);

    public ValueTask JobToBeExecuted(IJobExecutionContext context, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask JobExecutionVetoed(IJobExecutionContext context, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask JobWasExecuted(IJobExecutionContext context, JobExecutionException? jobException, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        Executions.Add((context.FireInstanceId, node));
        return ValueTask.CompletedTask;
    }
}
