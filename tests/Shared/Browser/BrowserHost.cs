using Microsoft.Playwright;

namespace IdP.Tests.Browser;

/// <summary>Chromium, headless with <see cref="Chromium.Arguments"/>, and the Playwright driver behind it; disposing closes both.</summary>
internal sealed class BrowserHost : IAsyncDisposable
{
    private readonly IPlaywright playwright;

    private BrowserHost(IPlaywright playwright, IBrowser browser)
    {
        this.playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static async Task<BrowserHost> LaunchAsync()
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium.ExecutablePath,
            Headless = true,
            Args = Chromium.Arguments,
        });
        return new BrowserHost(playwright, browser);
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        playwright.Dispose();
    }
}
