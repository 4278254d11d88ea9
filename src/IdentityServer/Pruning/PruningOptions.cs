using System.ComponentModel.DataAnnotations;

namespace IdentityServer.Pruning;

/// <summary>Bound from the <c>Pruning</c> configuration section.</summary>
public sealed class PruningOptions
{
    public const string Section = "Pruning";

    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Only rows created before now minus this age are removed; it must not be shorter than the refresh-token lifetime.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan MinimumAge { get; set; } = TimeSpan.FromDays(14);
}
