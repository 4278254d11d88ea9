using Microsoft.Playwright;

namespace IdentityServer.BrowserTests.Infrastructure;

/// <summary>One headless Chromium per test class; each test opens its own context (its own cookies).</summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    private BrowserHost? host;

    public IBrowser Browser => host?.Browser ?? throw new InvalidOperationException("Chromium was not started: " + Chromium.SkipReason);

    public async Task InitializeAsync()
    {
        // xunit builds class fixtures even when every test is skipped.
        if (Chromium.SkipReason is null)
        {
            host = await BrowserHost.LaunchAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (host is not null)
        {
            await host.DisposeAsync();
        }
    }
}
