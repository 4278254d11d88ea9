using Microsoft.Playwright;

namespace IdP.Tests.Browser.Pages;

/// <summary>The consent form that /connect/authorize renders for a client with explicit consent.</summary>
internal sealed class ConsentPage(IPage page)
{
    public ILocator ClientName => page.Locator("#client-name");

    private ILocator Accept => page.Locator("#accept");

    // The sign-in page shows #client-name too; only the consent form has the Allow button.
    public async Task WaitAsync() => await Accept.WaitForAsync();

    public async Task<IReadOnlyList<string>> ScopesAsync()
    {
        var scopes = new List<string>();
        foreach (var item in await page.Locator("li[data-scope]").AllAsync())
        {
            scopes.Add(await item.GetAttributeAsync("data-scope") ?? "");
        }
        return scopes;
    }

    public async Task AllowAsync() => await Accept.ClickAsync();

    public async Task DenyAsync() => await page.Locator("#deny").ClickAsync();
}
