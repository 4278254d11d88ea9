using Microsoft.Playwright;

namespace IdentityServer.BrowserTests.Pages;

/// <summary>/Account/Authenticator: setting up an authenticator app (QR code, key, confirming code, recovery codes).</summary>
internal sealed class AuthenticatorPage(IPage page)
{
    public const string Path = "/Account/Authenticator";

    public ILocator QrCode => page.GetByRole(AriaRole.Img, new() { NameRegex = new System.Text.RegularExpressions.Regex("QR code") });

    public ILocator Key => page.Locator("#authenticator-key");

    public ILocator RecoveryCodes => page.Locator("#recovery-codes li");

    public async Task WaitAsync() => await page.Locator("#turn-on").WaitForAsync();

    public async Task TurnOnAsync(string code)
    {
        await page.GetByLabel("Code from the app").FillAsync(code);
        await page.Locator("#turn-on").ClickAsync();
    }
}
