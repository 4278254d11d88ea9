using System.Net;
using AngleSharp.Html.Dom;
using IdentityServer.Audit;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using static IdentityServer.Tests.Email.AccountMailSteps;
using static IdentityServer.Tests.People.PeopleSteps;

namespace IdentityServer.Tests.People;

/// <summary>The admin pages that create accounts, edit roles and claims, and send reset and invitation mails.</summary>
public sealed class AdminUserPagesTests(MailServerFactory factory) : IClassFixture<MailServerFactory>
{
    [Fact]
    public async Task CreatePage_CreatesAndInvites_EditPageChangesRolesAndClaims_AndSendsMails()
    {
        using var admin = factory.CreateOidcClient();
        await admin.SignInThroughPortalAsync();
        var index = await OidcTestClient.ParseAsync(await admin.NavigateAsync("/Admin"));
        Assert.Equal("/Admin/Users/Create", index.QuerySelector("a#create-user")?.GetAttribute("href"));

        var form = await admin.NavigateAsync("/Admin/Users/Create");
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        var created = await PostFormAsync(admin, form, "#create-form",
            [new("UserName", "paged-olga"), new("Email", "paged-olga@example.com"), new("Profile.Roles", "admin"),
             new("Profile.Claims[name]", "Olga Paged"), new("Profile.Claims[locale]", ""), new("SendInvitation", "true")]);
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        var editPath = created.Headers.Location!.OriginalString;
        var id = await AdminTestHelpers.UserIdAsync(factory, "paged-olga");
        Assert.Equal($"/Admin/Users/{id}/Edit", editPath);
        var edit = await admin.NavigateAsync(editPath);
        var page = await OidcTestClient.ParseAsync(edit);
        Assert.Contains("invitation was mailed", page.QuerySelector("#admin-message")?.TextContent, StringComparison.Ordinal);
        Assert.Equal("Not chosen yet (invitation pending)", page.QuerySelector("#password-state")?.TextContent);
        Assert.Equal("Olga Paged", (page.QuerySelector("#claim-name") as IHtmlInputElement)?.Value);
        Assert.Equal("/Account/AcceptInvitation", TestMailServer.Link(await factory.Mail.NextMailToAsync("paged-olga@example.com")).AbsolutePath);
        // The actor of a change made on the pages is the admin's account.
        Assert.Equal(await AdminTestHelpers.UserIdAsync(factory, TestSeed.UserName), Assert.Single(await EventsAsync(factory, SecurityEventTypes.UserCreated, id)).Actor);

        // Resend, then accept: the page then offers a reset link instead.
        var invited = await PostFormAsync(admin, edit, "#invite-form", []);
        Assert.Equal(HttpStatusCode.Redirect, invited.StatusCode);
        var link = TestMailServer.Link(await factory.Mail.NextMailToAsync("paged-olga@example.com"));
        Assert.NotNull((await OidcTestClient.ParseAsync(await AcceptAsync(factory.CreateOidcClient(), link))).QuerySelector("#invitation-accepted"));

        edit = await admin.NavigateAsync(editPath);
        Assert.Equal("Set", (await OidcTestClient.ParseAsync(edit)).QuerySelector("#password-state")?.TextContent);
        Assert.Equal(HttpStatusCode.Redirect, (await PostFormAsync(admin, edit, "#send-reset-form", [])).StatusCode);
        Assert.Equal("/Account/ResetPassword", TestMailServer.Link(await factory.Mail.NextMailToAsync("paged-olga@example.com")).AbsolutePath);

        // No role ticked, a new name: saved and shown.
        var saved = await PostFormAsync(admin, edit, "#profile-form", [new("Profile.Claims[name]", "Olga Renamed"), new("Profile.Claims[given_name]", "Olga")]);
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        page = await OidcTestClient.ParseAsync(await admin.NavigateAsync(editPath));
        Assert.Equal("Olga Renamed", (page.QuerySelector("#claim-name") as IHtmlInputElement)?.Value);
        Assert.False((page.QuerySelector("#roles input[value=admin]") as IHtmlInputElement)?.IsChecked);
        Assert.Single(await EventsAsync(factory, SecurityEventTypes.UserRolesChanged, id));
        Assert.Single(await EventsAsync(factory, SecurityEventTypes.PasswordResetSentByAdmin, id));
    }

    [Fact]
    public async Task CreatePage_BadInput_ShowsTheProblem_NothingCreated()
    {
        using var admin = factory.CreateOidcClient();
        await admin.SignInThroughPortalAsync();
        var before = await UserCountAsync(factory);
        var form = await admin.NavigateAsync("/Admin/Users/Create");
        var duplicate = await PostFormAsync(admin, form, "#create-form", [new("UserName", TestSeed.SecondUserName), new("Email", "dup@example.com")]);
        Assert.Equal(HttpStatusCode.OK, duplicate.StatusCode);
        Assert.Equal("An account with this user name or e-mail address already exists.", (await OidcTestClient.ParseAsync(duplicate)).QuerySelector("p.error")?.TextContent);
        var badClaim = await PostFormAsync(admin, form, "#create-form", [new("UserName", "paged-bad"), new("Email", "paged-bad@example.com"), new("Profile.Claims[email]", "x@example.com")]);
        Assert.Equal(HttpStatusCode.OK, badClaim.StatusCode);
        Assert.NotEmpty((await OidcTestClient.ParseAsync(badClaim)).QuerySelectorAll("p.error"));
        Assert.Equal(before, await UserCountAsync(factory));
    }

    [Fact]
    public async Task UserPages_NotAnAdmin_403()
    {
        using var bob = factory.CreateOidcClient();
        await bob.SignInThroughPortalAsync(TestSeed.SecondUserName, TestSeed.SecondUserPassword);
        Assert.Equal(HttpStatusCode.Forbidden, (await bob.NavigateAsync("/Admin/Users/Create")).StatusCode);
        var alice = await AdminTestHelpers.UserIdAsync(factory, TestSeed.UserName);
        Assert.Equal(HttpStatusCode.Forbidden, (await bob.NavigateAsync($"/Admin/Users/{alice}/Edit")).StatusCode);
    }

    /// <summary>Posts one form of a page with its antiforgery token and exactly the given fields (as a browser would send them).</summary>
    private static async Task<HttpResponseMessage> PostFormAsync(OidcTestClient client, HttpResponseMessage page, string selector, List<KeyValuePair<string, string>> fields)
    {
        var document = await OidcTestClient.ParseAsync(page);
        var form = document.QuerySelector(selector) as IHtmlFormElement ?? throw new InvalidOperationException($"No form matches '{selector}'.");
        fields.Add(new("__RequestVerificationToken", (form.QuerySelector("input[name=__RequestVerificationToken]") as IHtmlInputElement)!.Value));
        var action = string.IsNullOrEmpty(form.GetAttribute("action"))
            ? page.RequestMessage!.RequestUri!
            : new Uri(IdentityServerFactory.BaseAddress, form.GetAttribute("action"));
        return await client.Http.PostAsync(action, new FormUrlEncodedContent(fields));
    }
}
