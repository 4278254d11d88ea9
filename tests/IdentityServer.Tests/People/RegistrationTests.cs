using System.Net;
using IdentityServer.Audit;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using static IdentityServer.Tests.Email.AccountMailSteps;
using static IdentityServer.Tests.People.PeopleSteps;

namespace IdentityServer.Tests.People;

/// <summary>Self-registration: off by default, then register, verify the address, sign in; no account enumeration by address.</summary>
public sealed class RegistrationTests(RegistrationFactory factory) : IClassFixture<RegistrationFactory>
{
    [Fact]
    public async Task Register_VerifyEmail_ThenSignIn_UnverifiedSignInRefused()
    {
        using var client = factory.CreateOidcClient();
        var login = await OidcTestClient.ParseAsync(await client.NavigateAsync("/Account/Login"));
        Assert.Equal("/Account/Register", login.QuerySelector("a#register")?.GetAttribute("href"));

        var page = await client.NavigateAsync("/Account/Register");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var document = await OidcTestClient.ParseAsync(page);
        Assert.Empty(document.QuerySelectorAll("script:not([src])"));
        Assert.Empty(document.QuerySelectorAll("[style]"));
        Assert.NotNull(page.Headers.GetValues("Content-Security-Policy").Single());

        var answer = await RegisterAsync(client, "self-lena", "self-lena@example.com");
        Assert.NotNull((await OidcTestClient.ParseAsync(answer)).QuerySelector("#registered"));
        var mail = await factory.Mail.NextMailToAsync("self-lena@example.com");
        Assert.Equal("Identity Provider: Verify your e-mail address", mail.Subject);
        var link = TestMailServer.Link(mail);
        var id = await AdminTestHelpers.UserIdAsync(factory, "self-lena");
        Assert.Single(await EventsAsync(factory, SecurityEventTypes.UserRegistered, id));

        // The right password, address not verified: refused, with a new link on its way.
        using (var early = factory.CreateOidcClient())
        {
            var refused = await early.SubmitAsync(await early.NavigateAsync("/Account/Login"),
                new Dictionary<string, string> { ["Input.Login"] = "self-lena", ["Input.Password"] = InvitedPassword });
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            Assert.StartsWith("Your e-mail address is not verified yet.", (await OidcTestClient.ParseAsync(refused)).QuerySelector("#login-error")?.TextContent, StringComparison.Ordinal);
            Assert.Equal("/Account/ConfirmEmail", TestMailServer.Link(await factory.Mail.NextMailToAsync("self-lena@example.com")).AbsolutePath);
            // A wrong password gets the usual answer: nothing tells a stranger about the account.
            var wrong = await early.SubmitAsync(await early.NavigateAsync("/Account/Login"),
                new Dictionary<string, string> { ["Input.Login"] = "self-lena", ["Input.Password"] = "Wrong-Passw0rd!" });
            Assert.Equal("The username or password is incorrect.", (await OidcTestClient.ParseAsync(wrong)).QuerySelector("#login-error")?.TextContent);
        }
        Assert.Equal("email_not_verified", Assert.Single(await EventsAsync(factory, SecurityEventTypes.SignInFailed, id), static e => e.Detail == "email_not_verified").Detail);

        var verify = await client.NavigateAsync(Local(link));
        Assert.NotNull((await OidcTestClient.ParseAsync(await client.SubmitAsync(verify))).QuerySelector("#verified"));
        Assert.True((await FindUserAsync(factory, id)).EmailConfirmed);

        using var browser = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "self-lena", InvitedPassword));
        Assert.Empty(factory.SecretsInLogs());
    }

    [Fact]
    public async Task Register_AddressInUse_SameAnswer_OwnerToldByMail_NoAccountCreated()
    {
        using var client = factory.CreateOidcClient();
        var before = await UserCountAsync(factory);
        var answer = await RegisterAsync(client, "someone-else", TestSeed.UserEmail.ToUpperInvariant());
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var fresh = await RegisterAsync(factory.CreateOidcClient(), "brand-new-mia", "brand-new-mia@example.com");
        Assert.Equal(Main(await OidcTestClient.ParseAsync(fresh)), Main(await OidcTestClient.ParseAsync(answer)));

        var mail = await factory.Mail.NextMailToAsync(TestSeed.UserEmail);
        Assert.Equal("Identity Provider: Someone tried to register with your address", mail.Subject);
        Assert.Empty(TestMailServer.Links(mail));
        Assert.Equal(before + 1, await UserCountAsync(factory));
        Assert.Single(await EventsAsync(factory, SecurityEventTypes.RegistrationAddressInUse, await AdminTestHelpers.UserIdAsync(factory, TestSeed.UserName)));

        static string? Main(AngleSharp.Html.Dom.IHtmlDocument page) => page.QuerySelector("main")?.TextContent ?? page.Body?.TextContent;
    }

    [Fact]
    public async Task Register_TakenUserNameOrWeakPassword_SaysWhy_NothingCreated()
    {
        using var client = factory.CreateOidcClient();
        var before = await UserCountAsync(factory);
        var taken = await OidcTestClient.ParseAsync(await RegisterAsync(client, TestSeed.SecondUserName, "new-bob@example.com"));
        Assert.Equal("This user name is taken. Choose another one.", taken.QuerySelector("p.error")?.TextContent);
        var weak = await OidcTestClient.ParseAsync(await RegisterAsync(client, "weak-nina", "weak-nina@example.com", "short"));
        Assert.NotEmpty(weak.QuerySelectorAll("p.error"));
        Assert.Null(weak.QuerySelector("#registered"));
        var badAddress = await OidcTestClient.ParseAsync(await RegisterAsync(client, "bad-otto", "not-an-address"));
        Assert.Equal("Enter a valid e-mail address.", badAddress.QuerySelector("p.error")?.TextContent);
        // A user name that is someone else's address would catch their sign-ins and resets by address.
        var othersAddress = await OidcTestClient.ParseAsync(await RegisterAsync(client, TestSeed.UserEmail, "mallory@example.com"));
        Assert.Equal("A user name with an @ in it must be the e-mail address you register with.", othersAddress.QuerySelector("p.error")?.TextContent);
        Assert.Equal(before, await UserCountAsync(factory));
        Assert.Null(await factory.Mail.TryNextMailToAsync("new-bob@example.com", TimeSpan.FromMilliseconds(500)));
        Assert.Null(await factory.Mail.TryNextMailToAsync("mallory@example.com", TimeSpan.FromMilliseconds(200)));
    }

    internal static async Task<HttpResponseMessage> RegisterAsync(OidcTestClient client, string userName, string email, string password = InvitedPassword)
    {
        var page = await client.NavigateAsync("/Account/Register");
        return await client.SubmitAsync(page, new Dictionary<string, string>
        {
            ["Input.UserName"] = userName, ["Input.Email"] = email, ["Input.Password"] = password, ["Input.ConfirmPassword"] = password,
        });
    }
}
