using System.Net;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Sessions;
using static IdentityServer.Tests.TwoFactor.TwoFactorSteps;

namespace IdentityServer.Tests.TwoFactor;

/// <summary>
/// What a browser left signed in (or a session someone stole) must not be enough for: moving the
/// account's e-mail address, where password resets go, and handing out an authenticator key that
/// an earlier, abandoned set-up in another session already showed.
/// </summary>
public sealed class TakeoverGuardTests(TwoFactorClockFactory factory) : IClassFixture<TwoFactorClockFactory>
{
    private static readonly TimeSpan PastTheWindow = TimeSpan.FromMinutes(6);

    [Fact]
    public async Task EmailChange_SignInOlderThanTheWindow_GoesThroughTheSignInPage_AndChangesNothing()
    {
        using var browser = factory.CreateOidcClient();
        var id = await AdminTestHelpers.CreateUserAsync(factory, "takeover-email");
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "takeover-email"));
        var formToken = await AdminTestHelpers.AntiforgeryTokenAsync(browser, "/Account/Email");
        factory.Clock.Advance(PastTheWindow);

        using var page = await browser.NavigateAsync("/Account/Email");
        var document = await OidcTestClient.ParseAsync(page);
        Assert.Null(document.QuerySelector("#change-form"));
        Assert.Equal("/Account/Login?ReturnUrl=%2FAccount%2FEmail", document.QuerySelector("#change-email-sign-in")!.GetAttribute("href"));
        // The form of a page left open, posted later, changes nothing and sends nothing.
        using var posted = await browser.Http.PostAsync(new Uri("/Account/Email?handler=Change", UriKind.Relative),
            new FormUrlEncodedContent([new("__RequestVerificationToken", formToken), new("Input.NewEmail", "thief@example.net")]));

        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        Assert.Equal("/Account/Login?ReturnUrl=%2FAccount%2FEmail", posted.Headers.Location!.OriginalString);
        Assert.DoesNotContain(await EventsAsync(factory, id), static e => e.Type == Audit.SecurityEventTypes.EmailChangeRequested);

        // Signing in again makes the form usable.
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "takeover-email"));
        using var fresh = await browser.NavigateAsync("/Account/Email");
        Assert.NotNull((await OidcTestClient.ParseAsync(fresh)).QuerySelector("#change-form"));
    }

    [Theory]
    [InlineData("a..b@example.com")]
    [InlineData("\"a@example.com")]
    [InlineData("a(b@example.com")]
    [InlineData("a@[1.2.3")]
    public async Task EmailChange_AddressMailCannotGoTo_IsRefusedOnThePage_NotAServerError(string address)
    {
        using var browser = factory.CreateOidcClient();
        var name = "takeover-bad-" + Math.Abs(address.GetHashCode(StringComparison.Ordinal));
        var id = await AdminTestHelpers.CreateUserAsync(factory, name);
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, name));

        using var page = await browser.NavigateAsync("/Account/Email");
        using var answer = await browser.SubmitFormAsync(page, "#change-form", new Dictionary<string, string> { ["Input.NewEmail"] = address });

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("Enter a valid e-mail address.", await ErrorAsync(answer));
        Assert.Equal(name + "@example.com", (await AccountAsync(factory, id)).Email);
        Assert.DoesNotContain(await EventsAsync(factory, id), static e => e.Type is Audit.SecurityEventTypes.EmailChangeRequested or Audit.SecurityEventTypes.EmailSendFailed);
    }

    [Fact]
    public async Task AuthenticatorSetUp_KeyShownToAnotherSession_IsNeverShownAgain()
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "takeover-key");
        using var intruder = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(intruder, "takeover-key"));
        var abandoned = await KeyOnPageAsync(intruder);
        Assert.Equal(abandoned, await KeyOnPageAsync(intruder));

        using var owner = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(owner, "takeover-key"));
        var ownersKey = await KeyOnPageAsync(owner);

        Assert.NotEqual(abandoned, ownersKey);
        // A code from the abandoned key cannot turn the authenticator on with the owner's key.
        using var page = await owner.NavigateAsync("/Account/Authenticator");
        using var refused = await owner.SubmitAsync(page, new Dictionary<string, string> { ["Input.Code"] = await TestAuthenticator.FromPage(abandoned).NextCodeAsync() });
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.False((await AccountAsync(factory, id)).TwoFactorEnabled);
        Assert.Equal(ownersKey, await KeyOnPageAsync(owner));
    }

    private static async Task<string> KeyOnPageAsync(OidcTestClient browser)
    {
        using var page = await browser.NavigateAsync("/Account/Authenticator");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        return (await OidcTestClient.ParseAsync(page)).QuerySelector("#authenticator-key")!.TextContent.Trim();
    }
}
