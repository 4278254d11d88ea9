namespace IdentityServer.Branding;

/// <summary>
/// Bound from the <c>Branding</c> section: what the pages and mails call the product, its logo, the
/// accent colour of primary buttons, and where people get help.
/// </summary>
public sealed class BrandingOptions
{
    public const string Section = "Branding";

    public const string DefaultProductName = "Identity Provider";

    /// <summary>The name in the header, every page title, and (unless <c>Email:FromName</c> says otherwise) every mail.</summary>
    public string ProductName { get; set; } = DefaultProductName;

    /// <summary>A logo shown before the name: an absolute <c>https</c> URL (its origin is added to the pages' CSP) or a path on this server.</summary>
    public string? LogoUrl { get; set; }

    /// <summary>Primary buttons, badges and chart bars, <c>#rrggbb</c>; white text on it must keep 4.5:1 (WCAG AA).</summary>
    public string AccentColor { get; set; } = "#2457d6";

    /// <summary>Optional "Help" link in the footer: an absolute <c>https</c> or <c>mailto:</c> URL.</summary>
    public string? SupportUrl { get; set; }

    /// <summary>The logo's origin when it is on another host, for the pages' <c>img-src</c>; else null.</summary>
    public string? LogoOrigin => Uri.TryCreate(LogoUrl, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority) : null;
}
