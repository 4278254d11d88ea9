using System.Net;
using System.Text.Json;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Sessions;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Sessions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Email.AccountMailSteps;

namespace IdentityServer.Tests.Email;

/// <summary>email_verified, the verification link, and a change of address that waits for the new address's link.</summary>
public sealed class EmailAddressTests(MailServerFactory factory) : IClassFixture<MailServerFactory>
{
    [Fact]
    public async Task EmailVerified_IsFalseUntilTheLinkIsFollowed_ThenTrueInTheIdTokenAndUserInfo()
    {
        var user = await CreateUserAsync(factory, "verify-me", emailVerified: false);
        using var client = factory.CreateOidcClient();
        var (idToken, userInfo) = await EmailClaimsAsync(client, user.UserName!);
        Assert.False(idToken.GetProperty("email_verified").GetBoolean());
        Assert.False(userInfo.GetProperty("email_verified").GetBoolean());

        var page = await client.NavigateAsync("/Account/Email");
        var document = await OidcTestClient.ParseAsync(page);
        Assert.Equal(user.Email, document.QuerySelector("#email")?.TextContent);
        Assert.Equal("not verified", document.QuerySelector("#email-status")?.TextContent);
        var sent = await client.SubmitFormAsync(page, "#verify-form");
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        Assert.Contains("We sent a verification link", (await OidcTestClient.ParseAsync(sent)).QuerySelector("#message")?.TextContent, StringComparison.Ordinal);

        var mail = await factory.Mail.NextMailToAsync(user.Email!);
        Assert.Equal("Identity Provider: Verify your e-mail address", mail.Subject);
        var link = TestMailServer.Link(mail);
        // Opening the link (as a mail scanner would) changes nothing; the button does.
        var confirm = await client.NavigateAsync(Local(link));
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        Assert.False((await FindUserAsync(factory, user.Id)).EmailConfirmed);
        var done = await client.SubmitAsync(confirm);
        Assert.NotNull((await OidcTestClient.ParseAsync(done)).QuerySelector("#verified"));
        Assert.True((await FindUserAsync(factory, user.Id)).EmailConfirmed);

        (idToken, userInfo) = await EmailClaimsAsync(client, user.UserName!);
        Assert.True(idToken.GetProperty("email_verified").GetBoolean());
        Assert.True(userInfo.GetProperty("email_verified").GetBoolean());

        // Used once: the link and its form now get the friendly page.
        await AssertInvalidLinkPageAsync(await client.NavigateAsync(Local(link)));
        await AssertInvalidLinkPageAsync(await client.SubmitAsync(confirm));
        Assert.Single(await EventsAsync(factory, SecurityEventTypes.EmailVerificationRequested, user.Id));
        Assert.Single(await EventsAsync(factory, SecurityEventTypes.EmailVerified, user.Id));
        Assert.Empty(factory.SecretsInLogs());
    }

    [Fact]
    public async Task VerificationLink_Tampered_GetsTheFriendlyPage_AndVerifiesNothing()
    {
        var user = await CreateUserAsync(factory, "verify-tampered", emailVerified: false);
        var other = await CreateUserAsync(factory, "verify-tampered-other", emailVerified: false);
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync(user.UserName!, Password);
        await client.SubmitFormAsync(await client.NavigateAsync("/Account/Email"), "#verify-form");
        var link = TestMailServer.Link(await factory.Mail.NextMailToAsync(user.Email!));

        await AssertInvalidLinkPageAsync(await client.NavigateAsync(WithParameter(link, "userId", other.Id)));
        await AssertInvalidLinkPageAsync(await client.NavigateAsync(WithParameter(link, "token", "AAAA")));
        // A reset link's token does not verify an address: each purpose has its own provider.
        await RequestResetAsync(client, other.UserName!);
        Assert.False((await FindUserAsync(factory, user.Id)).EmailConfirmed);
        Assert.False((await FindUserAsync(factory, other.Id)).EmailConfirmed);

        // The link as sent still works (posted the way its page's form posts it).
        var done = await PostLinkAsync(client, link);
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.NotNull((await OidcTestClient.ParseAsync(done)).QuerySelector("#verified"));
        Assert.True((await FindUserAsync(factory, user.Id)).EmailConfirmed);
    }

    [Fact]
    public async Task EmailChange_KeepsTheOldAddressUntilTheNewOnesLinkIsFollowed_ThenEndsOtherSessions()
    {
        var user = await CreateUserAsync(factory, "change-me");
        const string NewAddress = "change-me-new@example.com";
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync(user.UserName!, Password);
        using var otherDevice = factory.CreateOidcClient();
        await otherDevice.SignInThroughPortalAsync(user.UserName!, Password);

        var asked = await client.SubmitFormAsync(await client.NavigateAsync("/Account/Email"), "#change-form",
            new Dictionary<string, string> { ["Input.NewEmail"] = NewAddress });
        Assert.Equal(HttpStatusCode.OK, asked.StatusCode);
        Assert.Contains($"We sent a link to {NewAddress}", (await OidcTestClient.ParseAsync(asked)).QuerySelector("#message")?.TextContent, StringComparison.Ordinal);
        Assert.Equal(user.Email, (await FindUserAsync(factory, user.Id)).Email);

        var mail = await factory.Mail.NextMailToAsync(NewAddress);
        Assert.Equal("Identity Provider: Confirm your new e-mail address", mail.Subject);
        var link = TestMailServer.Link(mail);
        // The token is bound to the address: a link edited to another address is refused.
        await AssertInvalidLinkPageAsync(await client.NavigateAsync(WithParameter(link, "email", "attacker@example.com")));
        var confirm = await client.NavigateAsync(Local(link));
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        Assert.Equal(user.Email, (await FindUserAsync(factory, user.Id)).Email);

        var done = await client.SubmitAsync(confirm);
        Assert.NotNull((await OidcTestClient.ParseAsync(done)).QuerySelector("#changed"));
        var changed = await FindUserAsync(factory, user.Id);
        Assert.Equal(NewAddress, changed.Email);
        Assert.True(changed.EmailConfirmed);
        Assert.NotEqual(user.SecurityStamp, changed.SecurityStamp);

        // The old address is told; the link is used up.
        Assert.Equal("Identity Provider: Your e-mail address was changed", (await factory.Mail.NextMailToAsync(user.Email!)).Subject);
        await AssertInvalidLinkPageAsync(await client.NavigateAsync(Local(link)));

        // This browser stays signed in (its cookie was issued again); the other device is signed out.
        var emailPage = await client.NavigateAsync("/Account/Email");
        Assert.Equal(HttpStatusCode.OK, emailPage.StatusCode);
        Assert.Equal(NewAddress, (await OidcTestClient.ParseAsync(emailPage)).QuerySelector("#email")?.TextContent);
        using var signedOut = await otherDevice.Http.GetAsync(new Uri("/Account/Email", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        var sessions = await factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>().Sessions.AsNoTracking()
            .Where(s => s.UserId == user.Id).ToListAsync());
        Assert.Single(sessions, static s => s.EndedAt is null);
        Assert.Single(sessions, static s => s.EndReason == SessionEndReasons.EmailChanged);

        Assert.Single(await EventsAsync(factory, SecurityEventTypes.EmailChangeRequested, user.Id));
        Assert.Single(await EventsAsync(factory, SecurityEventTypes.EmailChanged, user.Id));
        Assert.Empty(factory.SecretsInLogs());
    }

    [Fact]
    public async Task EmailChange_ToAnotherAccountsAddress_AnswersAlike_AndMailsThatAddressANoticeWithoutLink()
    {
        var user = await CreateUserAsync(factory, "change-taken");
        var owner = await CreateUserAsync(factory, "change-taken-owner");
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync(user.UserName!, Password);

        var asked = await client.SubmitFormAsync(await client.NavigateAsync("/Account/Email"), "#change-form",
            new Dictionary<string, string> { ["Input.NewEmail"] = owner.Email! });
        Assert.Equal(HttpStatusCode.OK, asked.StatusCode);
        Assert.Contains($"We sent a link to {owner.Email}", (await OidcTestClient.ParseAsync(asked)).QuerySelector("#message")?.TextContent, StringComparison.Ordinal);

        var notice = await factory.Mail.NextMailToAsync(owner.Email!);
        Assert.Equal("Identity Provider: This e-mail address is already in use", notice.Subject);
        Assert.Empty(TestMailServer.Links(notice));
        Assert.Equal(user.Email, (await FindUserAsync(factory, user.Id)).Email);
        Assert.Equal("address_in_use", (await EventsAsync(factory, SecurityEventTypes.EmailChangeRequested, user.Id)).Single().Detail);
    }

    [Fact]
    public async Task EmailChange_AddressTakenBeforeTheLinkIsFollowed_ChangesNothing()
    {
        var user = await CreateUserAsync(factory, "change-race");
        const string NewAddress = "change-race-new@example.com";
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync(user.UserName!, Password);
        await client.SubmitFormAsync(await client.NavigateAsync("/Account/Email"), "#change-form", new Dictionary<string, string> { ["Input.NewEmail"] = NewAddress });
        var link = TestMailServer.Link(await factory.Mail.NextMailToAsync(NewAddress));
        var confirm = await client.NavigateAsync(Local(link));
        await CreateUserAsync(factory, "change-race-winner", email: NewAddress);

        var refused = await client.SubmitAsync(confirm);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("belongs to another account", (await OidcTestClient.ParseAsync(refused)).QuerySelector("#invalid-link")?.TextContent, StringComparison.Ordinal);
        Assert.Equal(user.Email, (await FindUserAsync(factory, user.Id)).Email);
    }

    /// <summary>Signs in through the shop (scope email) and returns the ID token's claims and userinfo's answer.</summary>
    private static async Task<(JsonElement IdToken, JsonElement UserInfo)> EmailClaimsAsync(OidcTestClient client, string userName)
    {
        var pkce = Pkce.Create();
        var redirect = await client.AuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid email", pkce), userName, Password);
        var tokens = await client.TokenAsync(("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]),
            ("redirect_uri", TestSeed.WebRedirectUri), ("code_verifier", pkce.Verifier), ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/connect/userinfo", UriKind.Relative));
        request.Headers.Authorization = new("Bearer", tokens["access_token"]);
        using var response = await client.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (Jwt.Payload(tokens["id_token"]!), JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }
}
