using System.ComponentModel.DataAnnotations;

namespace IdentityServer.Audit;

/// <summary>Bound from the <c>Audit</c> configuration section.</summary>
public sealed class AuditOptions
{
    public const string Section = "Audit";

    /// <summary>Security events older than this are removed by the pruning job.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(90);
}
