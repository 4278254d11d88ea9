using Microsoft.Playwright;

namespace IdentityServer.BrowserTests.Infrastructure;

/// <summary>One headless Chromium per test class; each test opens its own context (its own cookies).</summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    private IPlaywright? playwright;
    private IBrowser? browser;

    public IBrowser Browser => browser ?? throw new InvalidOperationException("Chromium was not started: " + Chromium.SkipReason);

    public async Task InitializeAsync()
    {
        // xunit builds class fixtures even when every test is skipped.
        if (Chromium.SkipReason is not null)
        {
            return;
        }
        playwright = await Playwright.CreateAsync();
        browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium.ExecutablePath,
            Headless = true,
            Args = Chromium.Arguments,
        });
    }

    public async Task DisposeAsync()
    {
        if (browser is not null)
        {
            await browser.DisposeAsync();
        }
        playwright?.Dispose();
    }
}
