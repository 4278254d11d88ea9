using Microsoft.Playwright;

namespace IdP.Tests.Browser.Pages;

/// <summary>/Account/Login, where the authorization endpoint sends a browser without a session.</summary>
internal sealed class LoginPage(IPage page)
{
    public const string Path = "/Account/Login";

    public ILocator Error => page.Locator("#login-error");

    public ILocator Password => page.Locator("input[name='Input.Password']");

    /// <summary>The show-password button, found as a screen reader finds it: by role and name.</summary>
    public ILocator ShowPassword => page.GetByRole(AriaRole.Button, new() { Name = "Show password", Exact = true });

    public ILocator RememberMe => page.GetByLabel("Remember me");

    public bool IsCurrent => string.Equals(new Uri(page.Url).AbsolutePath, Path, StringComparison.OrdinalIgnoreCase);

    /// <summary>"Sign in with a passkey": shown by passkeys.js where the browser supports passkeys.</summary>
    public ILocator PasskeyButton => page.Locator("#passkey-sign-in");

    public async Task WaitAsync() => await page.Locator("#sign-in").WaitForAsync();

    public async Task SignInAsync(string login, string password)
    {
        await page.Locator("input[name='Input.Login']").FillAsync(login);
        await Password.FillAsync(password);
        await page.Locator("#sign-in").ClickAsync();
    }
}
