using QRCoder;

namespace IdentityServer.TwoFactor;

/// <summary>
/// The QR code an authenticator app scans, as a PNG <c>data:</c> URI: the pages' Content Security
/// Policy allows <c>img-src data:</c> and no inline style, which an SVG drawn into the page would need.
/// </summary>
internal static class AuthenticatorQrCode
{
    private const int PixelsPerModule = 5;

    /// <summary>The otpauth URI (Key URI Format) that apps read: issuer, account name and key.</summary>
    public static string Uri(string issuer, string account, string key) =>
        $"otpauth://totp/{System.Uri.EscapeDataString(issuer)}:{System.Uri.EscapeDataString(account)}"
        + $"?secret={key}&issuer={System.Uri.EscapeDataString(issuer)}&digits=6&period={AuthenticatorCodes.StepSeconds}";

    public static string PngDataUri(string text)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
        return "data:image/png;base64," + Convert.ToBase64String(new PngByteQRCode(data).GetGraphic(PixelsPerModule));
    }
}
