using System.ComponentModel.DataAnnotations;

namespace ClientSamples.WebApp;

/// <summary>
/// The <c>WebApp</c> section. One build serves several apps: a second instance differs only in
/// <see cref="ClientId"/>, <see cref="ClientSecret"/> and its port (<c>--urls</c>).
/// </summary>
internal sealed class WebAppSettings
{
    public const string Section = "WebApp";

    /// <summary>The identity provider (its discovery document is read from here).</summary>
    [Required]
    public Uri Issuer { get; set; } = null!;

    [Required]
    public string ClientId { get; set; } = "";

    [Required]
    public string ClientSecret { get; set; } = "";

    /// <summary>Space-separated scopes asked for at sign-in.</summary>
    [Required]
    public string Scope { get; set; } = "";

    /// <summary>The API's root; the "Call the API" page calls <c>api/hello</c> under it.</summary>
    [Required]
    public Uri ApiBaseAddress { get; set; } = null!;

    /// <summary>
    /// The access token is refreshed on the first request within this time of its expiry, so that a call
    /// to the API never leaves with a token that expires on the way.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan RefreshBefore { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Shows the raw tokens on <c>/tokens</c>: a learning and testing aid only. Anyone at the keyboard
    /// could copy a bearer token from there, so it stays off outside a developer's machine.
    /// </summary>
    public bool ShowTokens { get; set; }
}
