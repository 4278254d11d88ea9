using System.Net;
using IdentityServer.Audit;
using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using static IdentityServer.Tests.Email.AccountMailSteps;
using static IdentityServer.Tests.People.PeopleSteps;

namespace IdentityServer.Tests.People;

/// <summary>Accounts created through the admin API at run time, and the invitation mail that lets their owner choose a password.</summary>
public sealed class InvitationTests(MailServerFactory factory) : IClassFixture<MailServerFactory>
{
    private static readonly string[] AdminRole = ["admin"];

    [Fact]
    public async Task CreateUser_InvitationFollowed_PasswordSet_SignInWorksWithoutRestart()
    {
        using var client = factory.CreateOidcClient();
        var response = await CreateUserAsync(client, new { userName = "invited-carol", email = "carol@example.com", roles = AdminRole, claims = new[] { new { type = "name", value = "Carol Invited" } } });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await JsonAsync(response);
        var id = created.GetProperty("id").GetString()!;
        Assert.Equal($"/api/admin/users/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("invited-carol", created.GetProperty("userName").GetString());
        Assert.False(created.GetProperty("emailConfirmed").GetBoolean());
        Assert.False(created.GetProperty("passwordSet").GetBoolean());
        Assert.True(created.GetProperty("invitationSent").GetBoolean());
        Assert.Equal("admin", created.GetProperty("roles")[0].GetString());
        Assert.Equal("Carol Invited", created.GetProperty("claims")[0].GetProperty("value").GetString());

        var mail = await factory.Mail.NextMailToAsync("carol@example.com");
        Assert.Equal("Identity Provider: You have been invited", mail.Subject);
        var link = TestMailServer.Link(mail);
        Assert.Equal("/Account/AcceptInvitation", link.AbsolutePath);

        // No password signs in before the invitation is accepted; the answer is the usual one.
        using (var early = factory.CreateOidcClient())
        {
            var login = await early.NavigateAsync("/Account/Login");
            var refused = await early.SubmitAsync(login, new Dictionary<string, string> { ["Input.Login"] = "invited-carol", ["Input.Password"] = InvitedPassword });
            Assert.Equal("The username or password is incorrect.", (await OidcTestClient.ParseAsync(refused)).QuerySelector("#login-error")?.TextContent);
        }

        var page = await client.NavigateAsync(Local(link));
        Assert.Equal("invited-carol", (await OidcTestClient.ParseAsync(page)).QuerySelector("#invited-user")?.TextContent);
        var done = await client.SubmitAsync(page, new Dictionary<string, string> { ["Input.NewPassword"] = InvitedPassword, ["Input.ConfirmPassword"] = InvitedPassword });
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.NotNull((await OidcTestClient.ParseAsync(done)).QuerySelector("#invitation-accepted"));

        var user = await FindUserAsync(factory, id);
        Assert.True(user.EmailConfirmed);
        Assert.True(await HasPasswordAsync(factory, id, InvitedPassword));

        // Signs in at once, and the ID token says the address is verified.
        using var browser = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "invited-carol", InvitedPassword));
        var tokens = await AdminTestHelpers.CodeFlowAsync(factory.CreateOidcClient(), "invited-carol", InvitedPassword);
        Assert.Equal("Carol Invited", Jwt.Payload(tokens["id_token"]!).GetProperty("name").GetString());

        // The link is used up.
        await AssertInvalidLinkPageAsync(await client.NavigateAsync(Local(link)));
        await AssertInvalidLinkPageAsync(await PostLinkAsync(client, link, new Dictionary<string, string> { ["Input.NewPassword"] = "Other-Passw0rd!", ["Input.ConfirmPassword"] = "Other-Passw0rd!" }));
        Assert.True(await HasPasswordAsync(factory, id, InvitedPassword));

        var createdEvent = Assert.Single(await EventsAsync(factory, SecurityEventTypes.UserCreated, id));
        Assert.Equal(TestSeed.AdminClientId, createdEvent.Actor);
        Assert.Equal("roles: admin", createdEvent.Detail);
        Assert.Equal(TestSeed.AdminClientId, Assert.Single(await EventsAsync(factory, SecurityEventTypes.InvitationSent, id)).Actor);
        Assert.Single(await EventsAsync(factory, SecurityEventTypes.InvitationAccepted, id));
        Assert.Empty(factory.SecretsInLogs());
    }

    [Fact]
    public async Task AcceptInvitation_TamperedLink_FriendlyPage_NothingChanged()
    {
        using var client = factory.CreateOidcClient();
        var first = (await JsonAsync(await CreateUserAsync(client, new { userName = "tamper-one", email = "tamper-one@example.com", roles = Array.Empty<string>() }))).GetProperty("id").GetString()!;
        var second = (await JsonAsync(await CreateUserAsync(client, new { userName = "tamper-two", email = "tamper-two@example.com", roles = Array.Empty<string>() }))).GetProperty("id").GetString()!;
        var link = TestMailServer.Link(await factory.Mail.NextMailToAsync("tamper-one@example.com"));
        var token = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(link.Query)["token"].ToString();

        foreach (var bad in new[]
        {
            WithParameter(link, "token", token[..^4] + (token[^4..] == "AAAA" ? "BBBB" : "AAAA")),
            WithParameter(link, "token", "not base64 !"),
            WithParameter(link, "userId", second),
            WithParameter(link, "userId", "no-such-user"),
        })
        {
            await AssertInvalidLinkPageAsync(await client.NavigateAsync(bad));
        }
        await AssertInvalidLinkPageAsync(await PostLinkAsync(client, new Uri(link, WithParameter(link, "userId", second)),
            new Dictionary<string, string> { ["Input.NewPassword"] = InvitedPassword, ["Input.ConfirmPassword"] = InvitedPassword }));
        // A token made for another purpose (a password reset of the same account) does not open an invitation.
        var resetToken = await factory.WithScopeAsync(async services =>
        {
            var users = services.GetRequiredService<UserManager<ApplicationUser>>();
            return await users.GeneratePasswordResetTokenAsync((await users.FindByIdAsync(first))!);
        });
        await AssertInvalidLinkPageAsync(await client.NavigateAsync(WithParameter(link, "token", IdentityServer.Account.AccountLinks.EncodeToken(resetToken))));
        Assert.False((await FindUserAsync(factory, first)).EmailConfirmed);
        Assert.Null((await FindUserAsync(factory, second)).PasswordHash);
        Assert.Empty(await EventsAsync(factory, SecurityEventTypes.InvitationAccepted, second));
    }

    [Fact]
    public async Task AcceptInvitation_AccountLockedByAnAdministrator_FriendlyPage_NothingChanged()
    {
        using var client = factory.CreateOidcClient();
        var id = (await JsonAsync(await CreateUserAsync(client, new { userName = "locked-ivy", email = "locked-ivy@example.com" }))).GetProperty("id").GetString()!;
        var link = TestMailServer.Link(await factory.Mail.NextMailToAsync("locked-ivy@example.com"));
        await factory.WithScopeAsync(async services =>
        {
            var users = services.GetRequiredService<UserManager<ApplicationUser>>();
            return await users.SetLockoutEndDateAsync((await users.FindByIdAsync(id))!, DateTimeOffset.MaxValue);
        });

        await AssertInvalidLinkPageAsync(await client.NavigateAsync(link.PathAndQuery));
        await AssertInvalidLinkPageAsync(await PostLinkAsync(client, link,
            new Dictionary<string, string> { ["Input.NewPassword"] = InvitedPassword, ["Input.ConfirmPassword"] = InvitedPassword }));

        Assert.Null((await FindUserAsync(factory, id)).PasswordHash);
        Assert.False((await FindUserAsync(factory, id)).EmailConfirmed);
    }

    [Fact]
    public async Task AcceptInvitation_WeakPassword_ShowsTheRule_LinkStillWorks()
    {
        using var client = factory.CreateOidcClient();
        var id = (await JsonAsync(await CreateUserAsync(client, new { userName = "weak-dave", email = "weak-dave@example.com" }))).GetProperty("id").GetString()!;
        var link = TestMailServer.Link(await factory.Mail.NextMailToAsync("weak-dave@example.com"));

        var refused = await AcceptAsync(client, link, "short");
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.NotEmpty((await OidcTestClient.ParseAsync(refused)).QuerySelectorAll("p.error"));
        Assert.Null((await FindUserAsync(factory, id)).PasswordHash);
        Assert.False((await FindUserAsync(factory, id)).EmailConfirmed);

        Assert.NotNull((await OidcTestClient.ParseAsync(await AcceptAsync(client, link))).QuerySelector("#invitation-accepted"));
    }

    [Fact]
    public async Task ResendInvitation_OldLinkStopsWorking_NewOneWorks_ThenResendRefused()
    {
        using var client = factory.CreateOidcClient();
        var id = (await JsonAsync(await CreateUserAsync(client, new { userName = "resend-erin", email = "resend-erin@example.com" }))).GetProperty("id").GetString()!;
        var old = TestMailServer.Link(await factory.Mail.NextMailToAsync("resend-erin@example.com"));

        var resent = await SendJsonAsync(client, HttpMethod.Post, $"/api/admin/users/{id}/invitation", null);
        Assert.Equal(HttpStatusCode.OK, resent.StatusCode);
        var fresh = TestMailServer.Link(await factory.Mail.NextMailToAsync("resend-erin@example.com"));

        await AssertInvalidLinkPageAsync(await client.NavigateAsync(Local(old)));
        Assert.NotNull((await OidcTestClient.ParseAsync(await AcceptAsync(client, fresh))).QuerySelector("#invitation-accepted"));
        Assert.Equal(2, (await EventsAsync(factory, SecurityEventTypes.InvitationSent, id)).Count);

        var again = await SendJsonAsync(client, HttpMethod.Post, $"/api/admin/users/{id}/invitation", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await SendJsonAsync(client, HttpMethod.Post, "/api/admin/users/no-such-user/invitation", null)).StatusCode);
    }

    [Fact]
    public async Task CreateUser_WithoutInvitation_NoMail_AndResetLinkRefusedUntilInvited()
    {
        using var client = factory.CreateOidcClient();
        var response = await CreateUserAsync(client, new { userName = "quiet-frank", email = "quiet-frank@example.com", sendInvitation = false });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await JsonAsync(response);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, body.GetProperty("invitationSent").ValueKind);
        var id = body.GetProperty("id").GetString()!;
        Assert.Null(await factory.Mail.TryNextMailToAsync("quiet-frank@example.com", TimeSpan.FromSeconds(1)));
        Assert.Empty(await EventsAsync(factory, SecurityEventTypes.InvitationSent, id));

        var reset = await SendJsonAsync(client, HttpMethod.Post, $"/api/admin/users/{id}/send-password-reset", null);
        Assert.Equal(HttpStatusCode.Conflict, reset.StatusCode);
    }
}
