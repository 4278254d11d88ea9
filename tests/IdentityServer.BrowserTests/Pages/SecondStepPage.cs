using Microsoft.Playwright;

namespace IdentityServer.BrowserTests.Pages;

/// <summary>/Account/LoginWith2fa: the code asked after the password when the authenticator is on.</summary>
internal sealed class SecondStepPage(IPage page)
{
    public const string Path = "/Account/LoginWith2fa";

    public async Task WaitAsync() => await page.Locator("#verify-code").WaitForAsync();

    public async Task EnterAsync(string code)
    {
        await page.GetByLabel("Code from your authenticator app").FillAsync(code);
        await page.Locator("#verify-code").ClickAsync();
    }
}
