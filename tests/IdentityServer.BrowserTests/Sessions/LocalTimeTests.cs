using IdentityServer.BrowserTests.Infrastructure;
using IdentityServer.Seeding;
using Microsoft.Playwright;

namespace IdentityServer.BrowserTests.Sessions;

/// <summary>Times on the pages are written in UTC and shown by the browser in its own zone, in its own variant of the page's language.</summary>
public sealed class LocalTimeTests(IdentityServerHost host, ChromiumFixture chromium)
    : IClassFixture<IdentityServerHost>, IClassFixture<ChromiumFixture>
{
    [BrowserFact]
    public async Task SessionsPage_InTokyo_ShowsTimesInTokyoTime_WithTheUtcTimeAsTitle()
    {
        await using var context = await chromium.Browser.NewContextAsync(new() { TimezoneId = "Asia/Tokyo", Locale = "en-GB" });
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(host.BaseAddress, "/Account/Login?ReturnUrl=%2FAccount%2FSessions").AbsoluteUri);
        await new LoginPage(page).SignInAsync(DevelopmentSeed.UserName, DevelopmentSeed.Password);
        await page.WaitForURLAsync(url => url.EndsWith("/Account/Sessions", StringComparison.Ordinal));

        var signedIn = page.Locator("li.session time").Last;
        var instant = DateTimeOffset.Parse((await signedIn.GetAttributeAsync("datetime"))!, System.Globalization.CultureInfo.InvariantCulture);
        var tokyo = instant.ToOffset(TimeSpan.FromHours(9));

        await Assertions.Expect(signedIn).ToHaveAttributeAsync("title", instant.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(signedIn).ToContainTextAsync(tokyo.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(signedIn).Not.ToContainTextAsync("UTC");
    }
}
