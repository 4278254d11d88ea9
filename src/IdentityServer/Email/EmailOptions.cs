namespace IdentityServer.Email;

/// <summary>
/// Bound from the <c>Email</c> configuration section. Mail goes to the SMTP server when
/// <c>Email:Smtp:Host</c> is set; otherwise into <see cref="PickupFolder"/> as <c>.eml</c> files
/// when that is set, or in Development (default <c>App_Data/mail</c>); otherwise the server sends no
/// mail and the pages that need it say so.
/// </summary>
public sealed class EmailOptions
{
    public const string Section = "Email";

    /// <summary>What a Development server without SMTP writes its mail into, under the content root.</summary>
    public const string DevelopmentPickupFolder = "App_Data/mail";

    /// <summary>Where Development mail comes from when <see cref="From"/> is not set.</summary>
    public const string DevelopmentFrom = "no-reply@localhost";

    public SmtpOptions Smtp { get; set; } = new();

    /// <summary>The sender address; required with an SMTP server.</summary>
    public string? From { get; set; }

    /// <summary>The sender's display name, also the product name in every subject; unset, <c>Branding:ProductName</c>.</summary>
    public string? FromName { get; set; }

    /// <summary>A folder (relative: under the content root) that receives each mail as an <c>.eml</c> file instead of SMTP.</summary>
    public string? PickupFolder { get; set; }
}
