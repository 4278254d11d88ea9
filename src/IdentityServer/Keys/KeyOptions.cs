using System.ComponentModel.DataAnnotations;

namespace IdentityServer.Keys;

/// <summary>How the server gets its signing keys, bound from the <c>Keys</c> configuration section.</summary>
public sealed class KeyOptions
{
    public const string Section = "Keys";

    /// <summary>
    /// <see cref="KeyMode.Automatic"/> (the default unless <c>Certificates:Signing</c> is configured): the
    /// server makes, stores and rotates its signing keys. <see cref="KeyMode.Certificates"/>: the signing
    /// certificates from configuration, rolled by the operator.
    /// </summary>
    public KeyMode? Mode { get; set; }

    /// <summary>How long a key signs before the next one takes over (default 90 days).</summary>
    [Range(typeof(TimeSpan), "00:00:10", "3650.00:00:00")]
    public TimeSpan RotationInterval { get; set; } = TimeSpan.FromDays(90);

    /// <summary>
    /// How long the next key is published in the JWKS before it signs (default 24 hours, longer than the
    /// JWKS caches of common client libraries), so that every client already knows it at the switch.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan PublishAhead { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How long a key stays published after it stopped signing (default 14 days): long enough for an ID token
    /// it signed to still verify as <c>id_token_hint</c> at sign-out; never less than the tokens it signed live.
    /// Its private key is erased when this ends.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan RetainFor { get; set; } = TimeSpan.FromDays(14);

    /// <summary>How often the rotation job looks whether a next key is due (default every hour).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The mode in effect: the configured one, else Automatic unless signing certificates are configured.</summary>
    public static KeyMode EffectiveMode(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var configured = configuration.GetSection(Section).Get<KeyOptions>()?.Mode;
        return configured ?? (configuration.GetSection("Certificates:Signing").GetChildren().Any(static c => !string.IsNullOrWhiteSpace(c["Path"]))
            ? KeyMode.Certificates
            : KeyMode.Automatic);
    }
}

public enum KeyMode
{
    Automatic,
    Certificates,
}
