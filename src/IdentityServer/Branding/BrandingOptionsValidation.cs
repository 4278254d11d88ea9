using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace IdentityServer.Branding;

/// <summary>Start-up checks of the <c>Branding</c> section, each naming the setting and what it must be.</summary>
internal sealed partial class BrandingOptionsValidation : IValidateOptions<BrandingOptions>
{
    public ValidateOptionsResult Validate(string? name, BrandingOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ProductName) || options.ProductName.Length > 60)
        {
            failures.Add("Branding:ProductName must be 1 to 60 characters.");
        }
        if (!HexColor().IsMatch(options.AccentColor))
        {
            failures.Add($"Branding:AccentColor '{options.AccentColor}' is not a colour written #rrggbb.");
        }
        else if (ContrastWithWhite(options.AccentColor) is var ratio and < 4.5)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"Branding:AccentColor '{options.AccentColor}' is too light: white text on it has a contrast of {ratio:0.0}:1, and WCAG AA needs 4.5:1. Choose a darker colour."));
        }
        if (options.LogoUrl is { } logo && !(IsHttps(logo) || (logo.StartsWith('/') && !logo.StartsWith("//", StringComparison.Ordinal))))
        {
            failures.Add("Branding:LogoUrl must be an absolute https URL or a path on this server (/...).");
        }
        if (options.SupportUrl is { } support && !(IsHttps(support) || support.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase)))
        {
            failures.Add("Branding:SupportUrl must be an absolute https URL or a mailto: address.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsHttps(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps && string.IsNullOrEmpty(uri.UserInfo);

    /// <summary>WCAG 2.x contrast ratio of white against <paramref name="hex"/> (#rrggbb).</summary>
    internal static double ContrastWithWhite(string hex)
    {
        static double Channel(string hex, int start)
        {
            var value = int.Parse(hex.AsSpan(start, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture) / 255.0;
            return value <= 0.03928 ? value / 12.92 : Math.Pow((value + 0.055) / 1.055, 2.4);
        }
        var luminance = (0.2126 * Channel(hex, 1)) + (0.7152 * Channel(hex, 3)) + (0.0722 * Channel(hex, 5));
        return 1.05 / (luminance + 0.05);
    }

    [GeneratedRegex("^#[0-9a-fA-F]{6}$")]
    private static partial Regex HexColor();
}
