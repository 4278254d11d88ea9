using System.Net;
using System.Text.Json;
using IdentityServer.BrowserTests.Infrastructure;
using IdentityServer.Seeding;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Playwright;

namespace IdentityServer.BrowserTests.Account;

/// <summary>The server with <c>localhost</c> as its passkeys' relying party, browsed as http://localhost:PORT.</summary>
public sealed class PasskeyServerHost : IdentityServerHost
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Passkeys:ServerDomain", "localhost");
    }
}

/// <summary>
/// A user adds a passkey in Chromium (its virtual authenticator standing in for a fingerprint
/// reader), signs out, signs in through the demo web app with the passkey alone (amr hwk mfa),
/// removes it, and the passkey no longer signs in.
/// </summary>
public sealed class PasskeyTests(PasskeyServerHost host, ChromiumFixture chromium)
    : IClassFixture<PasskeyServerHost>, IClassFixture<ChromiumFixture>
{
    [BrowserFact]
    public async Task Passkey_AddedOnTheSecurityPage_SignsInWithoutAPassword_UntilRemoved()
    {
        var server = host.LocalhostAddress;
        await using var browser = await BrowserSession.OpenAsync(chromium.Browser, server);
        var authenticator = await VirtualAuthenticator.AddAsync(browser.Page);
        await browser.Page.GotoAsync(new Uri(server, "Account/Login?ReturnUrl=%2FAccount%2FSecurity").AbsoluteUri);
        await browser.Login.SignInAsync(DevelopmentSeed.UserName, DevelopmentSeed.Password);
        var security = new SecurityPage(browser.Page);
        await security.WaitAsync();

        await security.AddPasskeyAsync("Test laptop");

        await Assertions.Expect(security.Passkeys).ToHaveTextAsync(["Test laptop"]);
        await Assertions.Expect(security.PasskeyMessage).ToHaveTextAsync("Passkey added. Your other sessions were signed out.");
        Assert.Equal(1, await authenticator.CredentialCountAsync());
        await SignOutAsync(browser, server);

        var request = AuthorizationRequest.Create();
        await browser.StartAsync(request);
        await browser.Login.WaitAsync();
        await browser.Login.PasskeyButton.ClickAsync();
        await browser.Consent.WaitAsync();
        await browser.Consent.AllowAsync();

        var callback = await browser.WaitForClientCallbackAsync();
        Assert.Equal(request.State, callback["state"]);
        // Redeemed at the server's localhost address: the issuer the code was issued by.
        using var http = new HttpClient { BaseAddress = server };
        var idToken = await request.RedeemForIdTokenAsync(http, callback["code"]);
        Assert.Equal(["hwk", "mfa"], idToken.GetProperty("amr").EnumerateArray().Select(static v => v.GetString()));

        // Signed in with the passkey just now: fresh enough to remove it.
        await browser.Page.GotoAsync(new Uri(server, "Account/Security").AbsoluteUri);
        await security.RemovePasskeyAsync("Test laptop");
        await Assertions.Expect(security.Passkeys).ToHaveCountAsync(0);
        await SignOutAsync(browser, server);

        // The authenticator still offers it; the server no longer knows it.
        await browser.Page.GotoAsync(new Uri(server, "Account/Login").AbsoluteUri);
        await browser.Login.PasskeyButton.ClickAsync();
        await Assertions.Expect(browser.Login.Error).ToHaveTextAsync("That passkey did not work. Try again, or sign in with your password.");
        Assert.Equal(1, await authenticator.CredentialCountAsync());
        Assert.Null(await browser.CookieAsync("idp.session"));
    }

    private static async Task SignOutAsync(BrowserSession browser, Uri server)
    {
        await browser.Page.GotoAsync(new Uri(server, "Account/Logout").AbsoluteUri);
        await browser.Page.Locator("#sign-out").ClickAsync();
        await browser.Page.Locator("#signed-out").WaitForAsync();
    }
}
