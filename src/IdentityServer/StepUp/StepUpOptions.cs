using System.ComponentModel.DataAnnotations;

namespace IdentityServer.StepUp;

/// <summary>Bound from the <c>StepUp</c> configuration section.</summary>
public sealed class StepUpOptions
{
    public const string Section = "StepUp";

    /// <summary>
    /// How long the link to the step-up page (the code asked of a signed-in user) is valid after the
    /// authorization request sent the user there.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "01:00:00")]
    public TimeSpan LinkLifetime { get; set; } = TimeSpan.FromMinutes(10);
}
