using System.ComponentModel.DataAnnotations;

namespace ClientSamples.Worker;

/// <summary>The <c>Worker</c> section: who the worker is at the identity provider and what it calls how often.</summary>
internal sealed class WorkerSettings
{
    public const string Section = "Worker";

    /// <summary>The identity provider (its discovery document is read from here).</summary>
    [Required]
    public Uri Issuer { get; set; } = null!;

    [Required]
    public string ClientId { get; set; } = "";

    [Required]
    public string ClientSecret { get; set; } = "";

    /// <summary>Space-separated scopes asked for in each token request.</summary>
    [Required]
    public string Scope { get; set; } = "";

    /// <summary>The API's root; the worker calls <c>api/hello</c> under it.</summary>
    [Required]
    public Uri ApiBaseAddress { get; set; } = null!;

    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A cached token is replaced this long before it expires, so that a call never leaves with a token
    /// that expires on the way (clock skew, a slow network).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan RenewBefore { get; set; } = TimeSpan.FromSeconds(30);
}
