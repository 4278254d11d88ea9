using Microsoft.Playwright;

namespace IdentityServer.BrowserTests.Pages;

/// <summary>/Account/Security: the authenticator app and the passkeys of the signed-in account.</summary>
internal sealed class SecurityPage(IPage page)
{
    public const string Path = "/Account/Security";

    public ILocator Passkeys => page.Locator("#passkey-list .passkey-name");

    public ILocator PasskeyMessage => page.Locator("#passkey-message");

    public async Task WaitAsync() => await page.Locator("#passkeys-title").WaitForAsync();

    /// <summary>Adds a passkey: the browser's authenticator answers, the page comes back saying so.</summary>
    public async Task AddPasskeyAsync(string name)
    {
        await page.GetByLabel("Name for the new passkey (optional)").FillAsync(name);
        await page.Locator("#add-passkey").ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("passkey=added", StringComparison.Ordinal));
    }

    public async Task RemovePasskeyAsync(string name)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove " + name, Exact = true }).ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("passkey=removed", StringComparison.Ordinal));
    }
}
