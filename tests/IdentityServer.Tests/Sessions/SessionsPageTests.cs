using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Sessions;

/// <summary>
/// The sessions page: each card's action names its device for a screen reader, long activity feeds
/// are paged, and every time carries its instant for the browser to show in its own time zone.
/// </summary>
public sealed class SessionsPageTests
{
    [Fact]
    public async Task SessionCard_SignOutButton_NamesTheDevice_AndTimesAreMarkedForTheLocalZone()
    {
        using var factory = new IdentityServerFactory();
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();

        var page = await OidcTestClient.ParseAsync(await client.NavigateAsync("/Account/Sessions"));

        var card = page.QuerySelector("li.session")!;
        var label = card.QuerySelector("button.end-session")!.GetAttribute("aria-label")!;
        Assert.StartsWith("Sign out this session: " + card.QuerySelector(".device")!.TextContent + " (this browser), last seen ", label, StringComparison.Ordinal);
        // Each moment in UTC as text, and as a machine-readable value the page's script shows in the local zone.
        var times = page.QuerySelectorAll("time");
        Assert.NotEmpty(times);
        Assert.All(times, static time =>
        {
            Assert.True(time.HasAttribute("data-local"));
            var at = DateTimeOffset.Parse(time.GetAttribute("datetime")!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture), time.TextContent);
        });
        Assert.Null(page.QuerySelector("local-time"));
        Assert.NotNull(page.QuerySelector("script[src^='/js/local-time.js']"));
    }

    [Fact]
    public async Task ActivityFeed_LongerThanAPage_IsPagedNewestFirst()
    {
        using var factory = new IdentityServerFactory();
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        var start = DateTimeOffset.UtcNow.AddDays(-1);
        await factory.WithScopeAsync(async services =>
        {
            var user = await services.GetRequiredService<UserManager<ApplicationUser>>().FindByNameAsync(TestSeed.UserName);
            var database = services.GetRequiredService<ApplicationDbContext>();
            for (var i = 0; i < 30; i++)
            {
                database.SecurityEvents.Add(new SecurityEvent { Timestamp = start.AddMinutes(i), Type = SecurityEventTypes.PasswordChanged, UserId = user!.Id });
            }
            return await database.SaveChangesAsync();
        });

        var first = await OidcTestClient.ParseAsync(await client.NavigateAsync("/Account/Sessions"));
        Assert.Equal(20, first.QuerySelectorAll("#activity > li").Length);
        Assert.Null(first.QuerySelector("#newer-activity"));
        var older = first.QuerySelector("#older-activity")!.GetAttribute("href")!;
        Assert.Equal("?sessions=1&activity=2", older);

        var second = await OidcTestClient.ParseAsync(await client.NavigateAsync("/Account/Sessions" + older));
        var shown = first.QuerySelectorAll("#activity > li").Length + second.QuerySelectorAll("#activity > li").Length;
        Assert.True(shown >= 31, $"{shown} entries over two pages"); // the 30 above and at least the sign-in
        Assert.Null(second.QuerySelector("#older-activity"));
        Assert.NotNull(second.QuerySelector("#newer-activity"));
        var firstTimes = first.QuerySelectorAll("#activity time").Select(static t => DateTimeOffset.Parse(t.GetAttribute("datetime")!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(firstTimes.OrderDescending(), firstTimes);
        Assert.True(firstTimes.Min() >= second.QuerySelectorAll("#activity time").Select(static t => DateTimeOffset.Parse(t.GetAttribute("datetime")!, System.Globalization.CultureInfo.InvariantCulture)).Max());
    }
}
