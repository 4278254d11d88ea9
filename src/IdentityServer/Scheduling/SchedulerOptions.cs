using System.ComponentModel.DataAnnotations;

namespace IdentityServer.Scheduling;

/// <summary>Bound from the <c>Scheduler</c> configuration section; read only with <c>Database:Provider=Postgres</c>.</summary>
public sealed class SchedulerOptions
{
    public const string Section = "Scheduler";

    /// <summary>
    /// This node's name in the scheduler cluster; unique among the nodes sharing the database, and best
    /// kept across restarts (a pod or host name), so a restarted node takes back its own interrupted
    /// work at once. Empty: the machine name and process id.
    /// </summary>
    [MaxLength(200)]
    public string? InstanceId { get; set; }

    /// <summary>
    /// How often a node records that it is alive. A node silent for about twice this long is taken
    /// for dead, and another node takes over its triggers and interrupted jobs.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan CheckinInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The id a node uses when <see cref="InstanceId"/> is not set.</summary>
    public string EffectiveInstanceId => string.IsNullOrWhiteSpace(InstanceId)
        ? $"{Environment.MachineName}-{Environment.ProcessId}"
        : InstanceId.Trim();
}
