using System.ComponentModel.DataAnnotations;

namespace IdentityServer.BackchannelLogout;

/// <summary>Bound from the <c>BackchannelLogout</c> configuration section.</summary>
public sealed class BackchannelLogoutOptions
{
    public const string Section = "BackchannelLogout";

    /// <summary>
    /// How often the delivery job looks for due notifications even when nothing signalled it: retries
    /// and notifications left behind by a restart are sent on this schedule.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one POST to a client may take before it counts as a failed attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Attempts per notification before it is given up as failed (and a security event recorded).</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The wait after the first failed attempt; it doubles after each further failure.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest wait between two attempts.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The logout token's lifetime (<c>exp</c> − <c>iat</c>): long enough for clock skew, short enough
    /// that a captured token is soon useless.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "00:30:00")]
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Client ids whose back-channel logout URI may point at loopback, private, link-local or shared
    /// (carrier-grade NAT) addresses outside Development: an app deployed next to the identity provider
    /// on an internal network. Every other client's URI must reach a public address. Cloud metadata,
    /// unspecified, multicast and reserved addresses stay refused for every client.
    /// </summary>
    public List<string> AllowPrivateNetworks { get; } = [];
}
