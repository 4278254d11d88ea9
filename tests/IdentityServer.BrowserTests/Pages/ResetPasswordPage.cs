using Microsoft.Playwright;

namespace IdentityServer.BrowserTests.Pages;

/// <summary>/Account/ForgotPassword and the /Account/ResetPassword page its mail links to.</summary>
internal sealed class ResetPasswordPage(IPage page)
{
    public const string ForgotPath = "/Account/ForgotPassword";

    public ILocator Requested => page.Locator("#requested");

    public ILocator Done => page.Locator("#reset-done");

    public async Task RequestAsync(string login)
    {
        await page.GetByLabel("Username or email").FillAsync(login);
        await page.Locator("#send-reset-link").ClickAsync();
    }

    public async Task ChooseAsync(string password)
    {
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync(password);
        await page.GetByLabel("Confirm new password").FillAsync(password);
        await page.Locator("#reset-password").ClickAsync();
    }
}
