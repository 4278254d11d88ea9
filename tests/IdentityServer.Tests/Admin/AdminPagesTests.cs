using System.Net;
using AngleSharp.Html.Dom;
using IdentityServer.Sessions;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Admin.AdminTestHelpers;

namespace IdentityServer.Tests.Admin;

public sealed class AdminPagesTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task AdminPages_Admin_SeesSessionsAndEndsOneWithTheForm()
    {
        var userId = await CreateUserAsync(factory, "heidi");
        using var user = factory.CreateOidcClient();
        await user.SignInThroughPortalAsync("heidi", Password);
        var session = Assert.Single(await SessionsAsync(factory, userId));

        using var admin = factory.CreateOidcClient();
        await admin.SignInThroughPortalAsync();
        var start = await admin.NavigateAsync("/Admin");
        Assert.Equal(HttpStatusCode.OK, start.StatusCode);
        var startPage = await OidcTestClient.ParseAsync(start);
        Assert.NotNull(startPage.QuerySelector("#active-sessions"));
        Assert.NotNull(startPage.QuerySelector("#admin-link"));

        var details = await admin.NavigateAsync($"/Admin/Users/{userId}");
        Assert.Equal(HttpStatusCode.OK, details.StatusCode);
        var page = await OidcTestClient.ParseAsync(details);
        Assert.NotNull(page.QuerySelector($"#session-{session.Id}"));
        var form = (IHtmlFormElement)page.QuerySelector($"#end-session-{session.Id}")!;
        var fields = form.Elements.OfType<IHtmlInputElement>().Select(i => new KeyValuePair<string, string>(i.Name!, i.Value)).ToList();
        Assert.Contains(fields, f => f.Key == "__RequestVerificationToken");

        using var posted = await admin.Http.PostAsync(new Uri(IdentityServerFactory.BaseAddress, form.GetAttribute("action")), new FormUrlEncodedContent(fields));
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);

        var stored = Assert.Single(await SessionsAsync(factory, userId));
        Assert.Equal(SessionEndReasons.EndedByAdmin, stored.EndReason);
        Assert.Equal(await UserIdAsync(factory, TestSeed.UserName), stored.EndedBy);
        var after = await OidcTestClient.ParseAsync(await admin.FollowLocalRedirectsAsync(posted));
        Assert.Equal("The session was ended.", after.QuerySelector("#admin-message")?.TextContent);
        Assert.Null(after.QuerySelector($"#end-session-{session.Id}"));
    }

    [Fact]
    public async Task AdminPages_FormPostWithoutAntiforgery_Returns400()
    {
        var userId = await CreateUserAsync(factory, "ivan");
        using var admin = factory.CreateOidcClient();
        await admin.SignInThroughPortalAsync();
        using var posted = await admin.Http.PostAsync(new Uri($"/Admin/Users/{userId}?handler=Lock", UriKind.Relative), new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.BadRequest, posted.StatusCode);
    }

    [Fact]
    public async Task AdminPages_NonAdmin_GetsAccessDenied403()
    {
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync(TestSeed.SecondUserName, TestSeed.SecondUserPassword);
        var response = await client.NavigateAsync("/Admin");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("/Account/AccessDenied", response.RequestMessage!.RequestUri!.AbsolutePath);
        var home = await OidcTestClient.ParseAsync(await client.NavigateAsync("/Account/Logout"));
        Assert.Null(home.QuerySelector("#admin-link"));
    }

    [Theory]
    [InlineData("/Admin")]
    [InlineData("/Admin/Events")]
    [InlineData("/Admin/Users/some-id")]
    public async Task AdminPages_Anonymous_RedirectsToSignIn(string path)
    {
        using var client = factory.CreateOidcClient();
        using var response = await client.Http.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Account/Login", response.Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task AdminPages_Events_FiftyAPageWithNewerAndOlderLinksThatKeepTheFilter()
    {
        var userId = await CreateUserAsync(factory, "xavier");
        using (var scope = factory.Services.CreateScope())
        {
            var audit = scope.ServiceProvider.GetRequiredService<IdentityServer.Audit.AuditLog>();
            for (var i = 0; i < 60; i++)
            {
                await audit.RecordAsync(IdentityServer.Audit.SecurityEventTypes.SignInFailed, userId, "xavier", detail: "event-" + i);
            }
        }
        using var admin = factory.CreateOidcClient();
        await admin.SignInThroughPortalAsync();

        var first = await OidcTestClient.ParseAsync(await admin.NavigateAsync("/Admin/Events?user=xavier&type=sign_in_failed"));
        Assert.Equal(50, first.QuerySelectorAll("#events tbody tr").Length);
        Assert.Null(first.QuerySelector("#newer-events"));
        var older = first.QuerySelector("#older-events")!.GetAttribute("href")!;
        Assert.Equal("?user=xavier&type=sign_in_failed&p=2", older);

        var second = await OidcTestClient.ParseAsync(await admin.NavigateAsync("/Admin/Events" + older));
        var rows = second.QuerySelectorAll("#events tbody tr");
        Assert.Equal(10, rows.Length);
        Assert.Equal("event-0", rows[^1].QuerySelectorAll("td")[3].TextContent);
        Assert.Null(second.QuerySelector("#older-events"));
        Assert.Equal("?user=xavier&type=sign_in_failed&p=1", second.QuerySelector("#newer-events")!.GetAttribute("href"));
    }

    [Fact]
    public async Task AdminPages_Clients_ListsEveryClientWithWhatItMayDo()
    {
        using var admin = factory.CreateOidcClient();
        await admin.SignInThroughPortalAsync();

        var page = await OidcTestClient.ParseAsync(await admin.NavigateAsync("/Admin/Clients"));

        var shop = page.QuerySelector($"#clients tr[data-client-id='{TestSeed.WebClientId}']")!;
        var cells = shop.QuerySelectorAll("td").Select(static c => c.TextContent.Trim()).ToList();
        Assert.Equal(["Shop", "confidential", "Enabled", "authorization_code, refresh_token"], cells[1..5]);
        Assert.Contains(TestSeed.WebRedirectUri, cells[6], StringComparison.Ordinal);
        Assert.NotNull(page.QuerySelector($"#clients tr[data-client-id='{TestSeed.ApiClientId}']"));
        Assert.EndsWith(" clients", page.QuerySelector("#client-count")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminPages_EventsFilter_ShowsTheUsersEvents()
    {
        var userId = await CreateUserAsync(factory, "judy");
        using var user = factory.CreateOidcClient();
        await user.SignInThroughPortalAsync("judy", Password);

        using var admin = factory.CreateOidcClient();
        await admin.SignInThroughPortalAsync();
        var response = await admin.NavigateAsync("/Admin/Events?user=judy&type=sign_in_succeeded");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var rows = (await OidcTestClient.ParseAsync(response)).QuerySelectorAll("#events tbody tr");
        var row = Assert.Single(rows);
        // People read the label; the raw type stays the filter's value.
        Assert.Equal("Signed in", row.QuerySelector(".event-type")!.TextContent);
        Assert.Equal("sign_in_succeeded", row.QuerySelector(".event-type")!.GetAttribute("data-type"));
        Assert.Equal("Signed in", (await OidcTestClient.ParseAsync(response)).QuerySelector("select[name=type] option[value=sign_in_succeeded]")!.TextContent);
        Assert.Contains(userId, row.QuerySelector("a")!.GetAttribute("href")!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminStart_BreadcrumbCountWithItsNounAndTheSignInChartBesideTheTable()
    {
        using var admin = factory.CreateOidcClient();
        await admin.SignInThroughPortalAsync();

        var page = await OidcTestClient.ParseAsync(await admin.NavigateAsync("/Admin"));

        Assert.Equal("Administration", page.QuerySelector("nav.breadcrumb li[aria-current=page]")!.TextContent);
        Assert.Matches("^[0-9,]+ users?$", page.QuerySelector("#user-count")!.TextContent);
        var chart = page.QuerySelector("svg#sign-in-chart")!;
        Assert.Equal("img", chart.GetAttribute("role"));
        var days = page.QuerySelectorAll("#sign-in-statistics tbody tr");
        Assert.Equal(days.Length, chart.QuerySelectorAll("g.day").Length);
        // The chart says in words what the table says in figures, day by day.
        foreach (var day in days)
        {
            var cells = day.QuerySelectorAll("td").Select(static c => c.TextContent).ToList();
            Assert.Contains($"{cells[0]}: {cells[1]} succeeded, {cells[2]} failed", chart.QuerySelector("desc")!.TextContent, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AdminUserEdit_BreadcrumbLeadsBackThroughTheUser()
    {
        var userId = await CreateUserAsync(factory, "yolanda");
        using var admin = factory.CreateOidcClient();
        await admin.SignInThroughPortalAsync();

        var page = await OidcTestClient.ParseAsync(await admin.NavigateAsync($"/Admin/Users/{userId}/Edit"));

        var steps = page.QuerySelectorAll("nav.breadcrumb li").Select(static li => (li.TextContent.Trim(), li.QuerySelector("a")?.GetAttribute("href"))).ToList();
        Assert.Equal([("Administration", "/Admin"), ("yolanda", $"/Admin/Users/{userId}"), ("Edit", null)], steps);
    }
}
