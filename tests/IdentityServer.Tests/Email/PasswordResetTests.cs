using System.Net;
using System.Text.RegularExpressions;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Sessions;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Email.AccountMailSteps;

namespace IdentityServer.Tests.Email;

/// <summary>Forgot password and the reset link, over real HTTP with mail received by a real SMTP server.</summary>
public sealed partial class PasswordResetTests(MailServerFactory factory) : IClassFixture<MailServerFactory>
{
    private const string NewPassword = "Brand-New-Passw0rd!";

    [Fact]
    public async Task ForgotPassword_IsLinkedFromTheSignInPage()
    {
        using var client = factory.CreateOidcClient();
        var login = await OidcTestClient.ParseAsync(await client.NavigateAsync("/Account/Login"));
        Assert.Equal("/Account/ForgotPassword", login.QuerySelector("a#forgot-password")?.GetAttribute("href"));
    }

    [Fact]
    public async Task ForgotPassword_KnownAccount_MailsALinkThatResetsThePasswordOnce()
    {
        var user = await CreateUserAsync(factory, "reset-works");
        using var client = factory.CreateOidcClient();

        var answer = await RequestResetAsync(client, user.UserName!);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.NotNull((await OidcTestClient.ParseAsync(answer)).QuerySelector("#requested"));

        var mail = await factory.Mail.NextMailToAsync(user.Email!);
        Assert.Equal("Identity Provider: Reset your password", mail.Subject);
        Assert.Equal("identity@example.test", mail.From.Mailboxes.Single().Address);
        Assert.NotNull(mail.HtmlBody);
        var link = TestMailServer.Link(mail);
        Assert.Equal("/Account/ResetPassword", link.AbsolutePath);
        var html = await new AngleSharp.Html.Parser.HtmlParser().ParseDocumentAsync(mail.HtmlBody, CancellationToken.None);
        Assert.Equal(link.AbsoluteUri, html.QuerySelector("a")?.GetAttribute("href"));

        var form = await client.NavigateAsync(Local(link));
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        var done = await client.SubmitAsync(form, new Dictionary<string, string> { ["Input.NewPassword"] = NewPassword, ["Input.ConfirmPassword"] = NewPassword });
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.NotNull((await OidcTestClient.ParseAsync(done)).QuerySelector("#reset-done"));
        Assert.True(await HasPasswordAsync(factory, user.Id, NewPassword));

        // The link is used up: opening or posting it again changes nothing.
        await AssertInvalidLinkPageAsync(await client.NavigateAsync(Local(link)));
        await AssertInvalidLinkPageAsync(await client.SubmitAsync(form, new Dictionary<string, string> { ["Input.NewPassword"] = "Another-Passw0rd!", ["Input.ConfirmPassword"] = "Another-Passw0rd!" }));
        Assert.True(await HasPasswordAsync(factory, user.Id, NewPassword));

        // The new password signs in; the old one does not.
        using var browser = factory.CreateOidcClient();
        await browser.SignInThroughPortalAsync(user.UserName!, NewPassword);
        Assert.Null((await EventsAsync(factory, SecurityEventTypes.PasswordResetRequested, user.Id)).Single().Detail);
        Assert.Single(await EventsAsync(factory, SecurityEventTypes.PasswordResetCompleted, user.Id));
        Assert.Empty(factory.SecretsInLogs());
    }

    [Fact]
    public async Task ForgotPassword_ByEmailAddress_MailsTheAccount()
    {
        var user = await CreateUserAsync(factory, "reset-by-email");
        using var client = factory.CreateOidcClient();
        await RequestResetAsync(client, user.Email!.ToUpperInvariant());
        Assert.Equal("/Account/ResetPassword", TestMailServer.Link(await factory.Mail.NextMailToAsync(user.Email!)).AbsolutePath);
    }

    [Fact]
    public async Task ForgotPassword_UnknownAccountOrUnverifiedAddress_SamePage_NoMail()
    {
        var known = await CreateUserAsync(factory, "reset-known");
        var unverified = await CreateUserAsync(factory, "reset-unverified", emailVerified: false);
        using var client = factory.CreateOidcClient();
        var before = factory.Mail.Received.Count;

        var knownPage = await PageTextAsync(await RequestResetAsync(client, known.UserName!));
        Assert.Equal(knownPage, await PageTextAsync(await RequestResetAsync(client, "nobody-at-all")));
        Assert.Equal(knownPage, await PageTextAsync(await RequestResetAsync(client, "nobody@example.com")));
        Assert.Equal(knownPage, await PageTextAsync(await RequestResetAsync(client, unverified.UserName!)));

        // Mail is sent in order, one at a time: once a later request's mail is in, any the others
        // had caused would be in too. Only the known account's two arrived.
        await RequestResetAsync(client, known.UserName!);
        await factory.Mail.NextMailToAsync(known.Email!);
        await factory.Mail.NextMailToAsync(known.Email!);
        var received = factory.Mail.Received.Skip(before).ToList();
        Assert.Equal(2, received.Count);
        Assert.All(received, m => Assert.Equal(known.Email, m.To.Mailboxes.Single().Address));

        Assert.Equal("email_not_verified", (await EventsAsync(factory, SecurityEventTypes.PasswordResetRequested, unverified.Id)).Single().Detail);
        var unknown = (await EventsAsync(factory, SecurityEventTypes.PasswordResetRequested)).Where(static e => e.UserId is null).ToList();
        Assert.Equal(2, unknown.Count);
        Assert.All(unknown, static e => Assert.Equal("unknown_account", e.Detail));
        // Never the text typed: a keyed hash, as for unknown sign-in names.
        Assert.All(unknown, static e => Assert.StartsWith("unknown:", e.UserName, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ResetLink_Tampered_GetsTheFriendlyPage_AndChangesNothing()
    {
        var user = await CreateUserAsync(factory, "reset-tampered");
        var other = await CreateUserAsync(factory, "reset-tampered-other");
        using var client = factory.CreateOidcClient();
        await RequestResetAsync(client, user.UserName!);
        var link = TestMailServer.Link(await factory.Mail.NextMailToAsync(user.Email!));
        var token = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(link.Query)["token"].ToString();

        var tampered = new[]
        {
            WithParameter(link, "token", token[..^4] + (token[^4] == 'A' ? "B" : "A") + token[^3..]),
            WithParameter(link, "token", "not-a-token"),
            WithParameter(link, "token", "%%%"),
            WithParameter(link, "token", ""),
            WithParameter(link, "userId", other.Id),
            WithParameter(link, "userId", "no-such-user"),
            "/Account/ResetPassword",
        };
        foreach (var url in tampered)
        {
            await AssertInvalidLinkPageAsync(await client.NavigateAsync(url));
        }

        // Posting a good form with a tampered token changes nothing either.
        var form = await client.NavigateAsync(Local(link));
        var page = await OidcTestClient.ParseAsync(form);
        var fields = new List<KeyValuePair<string, string>>
        {
            new("__RequestVerificationToken", page.QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!),
            new("userId", other.Id),
            new("token", token),
            new("Input.NewPassword", NewPassword),
            new("Input.ConfirmPassword", NewPassword),
        };
        using var post = await client.Http.PostAsync(new Uri("/Account/ResetPassword", UriKind.Relative), new FormUrlEncodedContent(fields));
        await AssertInvalidLinkPageAsync(post);
        Assert.True(await HasPasswordAsync(factory, other.Id, Password));
        Assert.True(await HasPasswordAsync(factory, user.Id, Password));
    }

    [Fact]
    public async Task ResetPassword_WeakPassword_ShowsThePasswordRules_AndTheLinkStillWorks()
    {
        var user = await CreateUserAsync(factory, "reset-weak");
        using var client = factory.CreateOidcClient();
        await RequestResetAsync(client, user.UserName!);
        var link = TestMailServer.Link(await factory.Mail.NextMailToAsync(user.Email!));

        var form = await client.NavigateAsync(Local(link));
        var refused = await client.SubmitAsync(form, new Dictionary<string, string> { ["Input.NewPassword"] = "short", ["Input.ConfirmPassword"] = "short" });
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("at least 8 characters", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var mismatch = await client.SubmitAsync(form, new Dictionary<string, string> { ["Input.NewPassword"] = NewPassword, ["Input.ConfirmPassword"] = "other" });
        Assert.Contains("do not match", await mismatch.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(await HasPasswordAsync(factory, user.Id, Password));

        var done = await client.SubmitAsync(refused, new Dictionary<string, string> { ["Input.NewPassword"] = NewPassword, ["Input.ConfirmPassword"] = NewPassword });
        Assert.NotNull((await OidcTestClient.ParseAsync(done)).QuerySelector("#reset-done"));
    }

    [Fact]
    public async Task ResetPassword_EndsEverySessionOfTheUser_AndItsRefreshTokens()
    {
        var user = await CreateUserAsync(factory, "reset-sessions");
        using var app = factory.CreateOidcClient();
        var pkce = Pkce.Create();
        var redirect = await app.AuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.ImplicitConsentClientId, TestSeed.PortalRedirectUri, "openid offline_access", pkce), user.UserName!, Password);
        var tokens = await app.TokenAsync(("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]),
            ("redirect_uri", TestSeed.PortalRedirectUri), ("code_verifier", pkce.Verifier), ("client_id", TestSeed.ImplicitConsentClientId),
            ("client_secret", "portal-secret-0123456789"));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        using var other = factory.CreateOidcClient();
        await other.SignInThroughPortalAsync(user.UserName!, Password);

        // The reset is done from the signed-in browser: its session ends too.
        await RequestResetAsync(app, user.UserName!);
        var link = TestMailServer.Link(await factory.Mail.NextMailToAsync(user.Email!));
        await app.SubmitAsync(await app.NavigateAsync(Local(link)), new Dictionary<string, string> { ["Input.NewPassword"] = NewPassword, ["Input.ConfirmPassword"] = NewPassword });

        var sessions = await factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>().Sessions.AsNoTracking()
            .Where(s => s.UserId == user.Id).ToListAsync());
        Assert.Equal(2, sessions.Count);
        Assert.All(sessions, static s => Assert.Equal(SessionEndReasons.PasswordReset, s.EndReason));
        Assert.Equal(2, (await EventsAsync(factory, SecurityEventTypes.SessionEnded, user.Id)).Count(static e => e.Detail == SessionEndReasons.PasswordReset));

        var refresh = await app.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"]!),
            ("client_id", TestSeed.ImplicitConsentClientId), ("client_secret", "portal-secret-0123456789"));
        Assert.Equal("invalid_grant", refresh.Error);
        foreach (var browser in new[] { app, other })
        {
            using var sessionsPage = await browser.Http.GetAsync(new Uri("/Account/Sessions", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Redirect, sessionsPage.StatusCode);
            Assert.Equal("/Account/Login", sessionsPage.Headers.Location!.AbsolutePath);
        }
    }

    [Fact]
    public async Task ResetPassword_LiftsALockoutAfterFailedSignIns_NotAnAdministratorsLock()
    {
        var user = await CreateUserAsync(factory, "reset-locked-out");
        using var client = factory.CreateOidcClient();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            await client.SignInAsync(await client.NavigateAsync("/Account/Login"), user.UserName!, "wrong-password");
        }
        Assert.True((await FindUserAsync(factory, user.Id)).LockoutEnd > DateTimeOffset.UtcNow);

        await RequestResetAsync(client, user.UserName!);
        var link = TestMailServer.Link(await factory.Mail.NextMailToAsync(user.Email!));
        await client.SubmitAsync(await client.NavigateAsync(Local(link)), new Dictionary<string, string> { ["Input.NewPassword"] = NewPassword, ["Input.ConfirmPassword"] = NewPassword });
        var unlocked = await FindUserAsync(factory, user.Id);
        Assert.Null(unlocked.LockoutEnd);
        Assert.Equal(0, unlocked.AccessFailedCount);
        Assert.Equal("lockout_cleared", (await EventsAsync(factory, SecurityEventTypes.PasswordResetCompleted, user.Id)).Single().Detail);
        await client.SignInThroughPortalAsync(user.UserName!, NewPassword);
    }

    [Fact]
    public async Task ResetPassword_AccountLockedByAnAdministrator_NoMail_AndAnEarlierLinkChangesNothing()
    {
        var user = await CreateUserAsync(factory, "reset-admin-locked");
        using var client = factory.CreateOidcClient();
        await RequestResetAsync(client, user.UserName!);
        var link = TestMailServer.Link(await factory.Mail.NextMailToAsync(user.Email!));
        await factory.WithScopeAsync(services => services.GetRequiredService<IdentityServer.Admin.UserAdministration>().LockAsync(user.Id, "admin-test", CancellationToken.None));

        var locked = await client.NavigateAsync(Local(link));
        Assert.Equal(HttpStatusCode.BadRequest, locked.StatusCode);
        Assert.Contains("locked by an administrator", (await OidcTestClient.ParseAsync(locked)).QuerySelector("#invalid-link")!.TextContent, StringComparison.Ordinal);
        Assert.True(await HasPasswordAsync(factory, user.Id, Password));
        Assert.Equal(DateTimeOffset.MaxValue, (await FindUserAsync(factory, user.Id)).LockoutEnd);

        await RequestResetAsync(client, user.UserName!);
        Assert.Equal("locked", (await EventsAsync(factory, SecurityEventTypes.PasswordResetRequested, user.Id)).Last().Detail);
        Assert.Null(await factory.Mail.TryNextMailToAsync(user.Email!, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task ResetLink_UnderAForgedHostHeader_PointsAtTheIssuer()
    {
        var user = await CreateUserAsync(factory, "reset-forged-host");
        using var client = factory.CreateOidcClient();
        var page = await client.NavigateAsync("/Account/ForgotPassword");
        var document = await OidcTestClient.ParseAsync(page);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/Account/ForgotPassword", UriKind.Relative))
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = document.QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!,
                ["Input.Login"] = user.UserName!,
            }),
        };
        request.Headers.Host = "evil.example";
        using var answer = await client.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(IdentityServerFactory.BaseAddress.Authority, TestMailServer.Link(await factory.Mail.NextMailToAsync(user.Email!)).Authority);
    }

    /// <summary>The page as a person reads it: the per-request antiforgery token blanked out.</summary>
    private static async Task<string> PageTextAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return AntiforgeryValue().Replace(await response.Content.ReadAsStringAsync(), "value=\"\"");
    }

    [GeneratedRegex("value=\"CfDJ8[^\"]*\"")]
    private static partial Regex AntiforgeryValue();
}
