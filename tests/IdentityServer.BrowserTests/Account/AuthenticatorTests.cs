using System.Net;
using System.Text.Json;
using IdentityServer.BrowserTests.Infrastructure;
using IdentityServer.Seeding;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Playwright;
using OtpNet;

namespace IdentityServer.BrowserTests.Account;

/// <summary>
/// A user sets up an authenticator app in Chromium from the key the page shows, signs out, and
/// signs in again through the demo web app with the password and a code computed from that key.
/// </summary>
public sealed class AuthenticatorTests(IdentityServerHost host, ChromiumFixture chromium)
    : IClassFixture<IdentityServerHost>, IClassFixture<ChromiumFixture>
{
    private const int StepSeconds = 30;

    [BrowserFact]
    public async Task Authenticator_SetUpFromTheKeyOnThePage_IsAskedForAfterThePasswordAndSignsIn()
    {
        await using var browser = await BrowserSession.OpenAsync(chromium.Browser, host.BaseAddress);
        await browser.Page.GotoAsync(new Uri(host.BaseAddress, "Account/Login?ReturnUrl=%2FAccount%2FSecurity").AbsoluteUri);
        await browser.Login.SignInAsync(DevelopmentSeed.UserName, DevelopmentSeed.Password);
        await browser.Page.Locator("#set-up-authenticator").ClickAsync();

        var setUp = new AuthenticatorPage(browser.Page);
        await setUp.WaitAsync();
        // The QR code is a PNG data: URI the page's Content Security Policy lets the browser draw.
        await Assertions.Expect(setUp.QrCode).ToBeVisibleAsync();
        Assert.True(await setUp.QrCode.EvaluateAsync<int>("img => img.naturalWidth") > 0);
        var totp = new Totp(Base32Encoding.ToBytes((await setUp.Key.InnerTextAsync()).Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant()));
        var step = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / StepSeconds;
        await setUp.TurnOnAsync(CodeFor(totp, step));
        await Assertions.Expect(setUp.RecoveryCodes).ToHaveCountAsync(10);

        await browser.Page.GotoAsync(new Uri(host.BaseAddress, "Account/Logout").AbsoluteUri);
        await browser.Page.Locator("#sign-out").ClickAsync();
        await browser.Page.Locator("#signed-out").WaitForAsync();

        var request = AuthorizationRequest.Create();
        await browser.StartAsync(request);
        await browser.Login.WaitAsync();
        await browser.Login.SignInAsync(DevelopmentSeed.UserName, DevelopmentSeed.Password);
        var secondStep = new SecondStepPage(browser.Page);
        await secondStep.WaitAsync();
        Assert.Null(await browser.CookieAsync("idp.session"));
        // The set-up code is used up: the next time step's code, which the server already accepts.
        await secondStep.EnterAsync(CodeFor(totp, step + 1));
        await browser.Consent.WaitAsync();
        await browser.Consent.AllowAsync();

        var callback = await browser.WaitForClientCallbackAsync();
        Assert.Equal(request.State, callback["state"]);
        using var http = host.CreateHttpClient();
        var idToken = await request.RedeemForIdTokenAsync(http, callback["code"]);
        Assert.Equal(["pwd", "otp", "mfa"], idToken.GetProperty("amr").EnumerateArray().Select(static v => v.GetString()));
    }

    private static string CodeFor(Totp totp, long step) =>
        totp.ComputeTotp(DateTimeOffset.FromUnixTimeSeconds(step * StepSeconds).UtcDateTime);
}
