using Microsoft.Playwright;

namespace IdentityServer.BrowserTests.Pages;

/// <summary>/Account/AcceptInvitation, where an invited user chooses a password.</summary>
internal sealed class AcceptInvitationPage(IPage page)
{
    public ILocator UserName => page.Locator("#invited-user");

    public ILocator Password => page.GetByLabel("Password", new() { Exact = true });

    public ILocator ConfirmPassword => page.GetByLabel("Confirm password");

    public ILocator ShowPasswords => page.GetByRole(AriaRole.Button, new() { Name = "Show passwords", Exact = true });

    public ILocator Accepted => page.Locator("#invitation-accepted");

    public async Task ChooseAsync(string password)
    {
        await Password.FillAsync(password);
        await ConfirmPassword.FillAsync(password);
        await page.Locator("#accept-invitation").ClickAsync();
    }
}
