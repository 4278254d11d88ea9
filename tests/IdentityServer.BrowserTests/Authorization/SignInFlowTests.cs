using System.Net;
using System.Text.Json;
using IdentityServer.BrowserTests.Infrastructure;
using IdentityServer.Seeding;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Playwright;

namespace IdentityServer.BrowserTests.Authorization;

/// <summary>
/// The sign-in flow as a user's browser sees it, against the demo seed. One server and one browser serve
/// the class (tests in a class run one at a time); each test has its own cookie jar. Only the code-flow
/// test grants consent; tests that need the consent page after it ask for prompt=consent, so that the
/// order in which xunit runs them does not matter.
/// </summary>
public sealed class SignInFlowTests(IdentityServerHost host, ChromiumFixture chromium)
    : IClassFixture<IdentityServerHost>, IClassFixture<ChromiumFixture>
{
    private const string SessionCookie = "idp.session";

    [BrowserFact]
    public async Task CodeFlow_SignInThenAllow_RedirectsWithCodeForTokensAndNextRequestSkipsPages()
    {
        await using var browser = await BrowserSession.OpenAsync(chromium.Browser, host.BaseAddress);
        var request = AuthorizationRequest.Create();

        await browser.StartAsync(request);
        await browser.Login.WaitAsync();
        await browser.Login.SignInAsync(DevelopmentSeed.UserName, DevelopmentSeed.Password);

        await browser.Consent.WaitAsync();
        Assert.Equal("Demo Web App", await browser.Consent.ClientName.InnerTextAsync());
        Assert.Equal(AuthorizationRequest.Scopes.Order(), (await browser.Consent.ScopesAsync()).Order());
        await browser.Consent.AllowAsync();

        var callback = await browser.WaitForClientCallbackAsync();
        Assert.Equal(request.State, callback["state"]);
        // RFC 9207: the client checks that the response came from the issuer it sent the user to.
        var issuer = await IssuerAsync();
        Assert.Equal(host.BaseAddress.AbsoluteUri, issuer);
        Assert.Equal(issuer, callback["iss"]);

        using var http = host.CreateHttpClient();
        using var tokens = await request.RedeemAsync(http, callback["code"]);
        var json = tokens.RootElement;
        Assert.False(string.IsNullOrEmpty(json.GetProperty("access_token").GetString()));
        Assert.False(string.IsNullOrEmpty(json.GetProperty("refresh_token").GetString()));
        var idToken = AuthorizationRequest.JwtPayload(json.GetProperty("id_token").GetString()!);
        Assert.Equal(request.Nonce, idToken.GetProperty("nonce").GetString());
        Assert.Equal(issuer, idToken.GetProperty("iss").GetString());
        Assert.Equal(DevelopmentSeed.WebClientId, idToken.GetProperty("aud").GetString());

        // Single sign-on: the session cookie and the remembered consent carry a new request straight through.
        var next = AuthorizationRequest.Create();
        var seen = browser.Navigations.Count;
        await browser.StartAsync(next);
        var nextCallback = await browser.WaitForClientCallbackAsync();
        Assert.Equal(next.State, nextCallback["state"]);
        Assert.Equal(issuer, nextCallback["iss"]);
        Assert.False(string.IsNullOrEmpty(nextCallback["code"]));
        Assert.NotEqual(callback["code"], nextCallback["code"]);

        var hops = browser.Navigations.Skip(seen).ToList();
        Assert.Equal("/connect/authorize", hops[0].Url.AbsolutePath);
        Assert.Equal((int)HttpStatusCode.Redirect, hops[0].Status);
        Assert.DoesNotContain(hops, h => h.Url.AbsolutePath.Equals(LoginPage.Path, StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(hops, h => h.Url.AbsolutePath == "/connect/authorize" && h.Status == (int)HttpStatusCode.OK);
    }

    [BrowserFact]
    public async Task Login_WrongPassword_ShowsErrorAndStaysOnLoginPage()
    {
        await using var browser = await BrowserSession.OpenAsync(chromium.Browser, host.BaseAddress);
        await browser.StartAsync(AuthorizationRequest.Create());
        await browser.Login.WaitAsync();

        await browser.Login.SignInAsync(DevelopmentSeed.UserName, "Wrong-" + DevelopmentSeed.Password);

        await Assertions.Expect(browser.Login.Error).ToHaveTextAsync("The username or password is incorrect.");
        Assert.True(browser.Login.IsCurrent, $"Expected to stay on {LoginPage.Path}, but the browser is at {browser.Page.Url}.");
        Assert.Null(await browser.CookieAsync(SessionCookie));
    }

    [BrowserFact]
    public async Task SessionCookie_AfterSignIn_IsHttpOnlyAndSameSiteLax()
    {
        await using var browser = await BrowserSession.OpenAsync(chromium.Browser, host.BaseAddress);
        await browser.StartAsync(AuthorizationRequest.Create() with { Prompt = "consent" });
        await browser.Login.WaitAsync();
        await browser.Login.SignInAsync(DevelopmentSeed.UserName, DevelopmentSeed.Password);
        await browser.Consent.WaitAsync();

        var cookie = await browser.CookieAsync(SessionCookie);

        Assert.NotNull(cookie);
        // Script on the page must never read the session; Lax still lets client apps' top-level redirects carry it.
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Lax, cookie.SameSite);
        // Without "Remember me" it ends with the browser (Playwright's -1: no expiry).
        Assert.Equal(-1, cookie.Expires);
    }

    [BrowserFact]
    public async Task Consent_Deny_RedirectsWithAccessDeniedAndNoCode()
    {
        await using var browser = await BrowserSession.OpenAsync(chromium.Browser, host.BaseAddress);
        var request = AuthorizationRequest.Create() with { Prompt = "consent" };
        await browser.StartAsync(request);
        await browser.Login.WaitAsync();
        await browser.Login.SignInAsync(DevelopmentSeed.UserName, DevelopmentSeed.Password);
        await browser.Consent.WaitAsync();

        await browser.Consent.DenyAsync();

        var callback = await browser.WaitForClientCallbackAsync();
        Assert.Equal("access_denied", callback["error"]);
        Assert.Equal(request.State, callback["state"]);
        Assert.DoesNotContain("code", callback.Keys);
    }

    [BrowserFact]
    public async Task ShowPassword_Toggle_ShowsThePasswordAsTextAndHidesItAgain()
    {
        await using var browser = await BrowserSession.OpenAsync(chromium.Browser, host.BaseAddress);
        await browser.StartAsync(AuthorizationRequest.Create() with { Prompt = "consent" });
        await browser.Login.WaitAsync();
        var password = browser.Login.Password;
        var toggle = browser.Login.ShowPassword;
        await password.FillAsync(DevelopmentSeed.Password);

        await Assertions.Expect(toggle).ToBeVisibleAsync();
        await Assertions.Expect(toggle).ToHaveAttributeAsync("aria-pressed", "false");
        await Assertions.Expect(password).ToHaveAttributeAsync("type", "password");

        await toggle.ClickAsync();
        await Assertions.Expect(password).ToHaveAttributeAsync("type", "text");
        await Assertions.Expect(toggle).ToHaveAttributeAsync("aria-pressed", "true");
        await Assertions.Expect(password).ToHaveValueAsync(DevelopmentSeed.Password);

        await toggle.ClickAsync();
        await Assertions.Expect(password).ToHaveAttributeAsync("type", "password");
        await Assertions.Expect(toggle).ToHaveAttributeAsync("aria-pressed", "false");

        // Sent while shown, it goes as a password field (browsers keep a history of what text
        // fields sent). A listener added after the page's own holds the first submission back.
        await toggle.ClickAsync();
        await Assertions.Expect(password).ToHaveAttributeAsync("type", "text");
        await browser.Page.EvaluateAsync("() => document.querySelector('form').addEventListener('submit', e => e.preventDefault(), { once: true })");
        await browser.Login.SignInAsync(DevelopmentSeed.UserName, DevelopmentSeed.Password);
        await Assertions.Expect(password).ToHaveAttributeAsync("type", "password");
        await Assertions.Expect(toggle).ToHaveAttributeAsync("aria-pressed", "false");

        await browser.Page.Locator("#sign-in").ClickAsync();
        await browser.Consent.WaitAsync();
    }

    [BrowserFact]
    public async Task ShowPasswords_OnChangePassword_ShowsAllThreeFieldsAsTextAndHidesThemAgain()
    {
        await using var browser = await BrowserSession.OpenAsync(chromium.Browser, host.BaseAddress);
        await browser.StartAsync(AuthorizationRequest.Create() with { Prompt = "consent" });
        await browser.Login.WaitAsync();
        await browser.Login.SignInAsync(DevelopmentSeed.UserName, DevelopmentSeed.Password);
        await browser.Consent.WaitAsync();
        var page = new ChangePasswordPage(browser.Page);
        await page.OpenAsync(host.BaseAddress);

        await Assertions.Expect(page.ShowPasswords).ToHaveAttributeAsync("aria-pressed", "false");
        await page.ShowPasswords.ClickAsync();
        await Assertions.Expect(page.ShowPasswords).ToHaveAttributeAsync("aria-pressed", "true");
        foreach (var field in page.Fields)
        {
            await Assertions.Expect(field).ToHaveAttributeAsync("type", "text");
        }
        await page.ShowPasswords.ClickAsync();
        foreach (var field in page.Fields)
        {
            await Assertions.Expect(field).ToHaveAttributeAsync("type", "password");
        }
    }

    [BrowserFact]
    public async Task SignIn_WithoutJavaScript_WorksAndOffersNoShowPasswordButton()
    {
        await using var browser = await BrowserSession.OpenAsync(chromium.Browser, host.BaseAddress, javaScriptEnabled: false);
        await browser.StartAsync(AuthorizationRequest.Create() with { Prompt = "consent" });
        await browser.Login.WaitAsync();

        // A button that would do nothing is not offered.
        await Assertions.Expect(browser.Page.Locator("#show-password")).ToBeHiddenAsync();
        await Assertions.Expect(browser.Login.RememberMe).ToBeVisibleAsync();
        await browser.Login.SignInAsync(DevelopmentSeed.UserName, DevelopmentSeed.Password);

        await browser.Consent.WaitAsync();
        Assert.NotNull(await browser.CookieAsync(SessionCookie));
    }

    [BrowserFact]
    public async Task RememberMe_Ticked_KeepsTheSessionCookieBeyondTheBrowser()
    {
        await using var browser = await BrowserSession.OpenAsync(chromium.Browser, host.BaseAddress);
        await browser.StartAsync(AuthorizationRequest.Create() with { Prompt = "consent" });
        await browser.Login.WaitAsync();

        await browser.Login.RememberMe.CheckAsync();
        await browser.Login.SignInAsync(DevelopmentSeed.UserName, DevelopmentSeed.Password);
        await browser.Consent.WaitAsync();

        // Playwright gives a browser-session cookie the expiry -1.
        var cookie = await browser.CookieAsync(SessionCookie);
        Assert.NotNull(cookie);
        var expires = DateTimeOffset.FromUnixTimeSeconds((long)cookie.Expires);
        Assert.InRange(expires, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(90));
    }

    private async Task<string> IssuerAsync()
    {
        using var http = host.CreateHttpClient();
        using var discovery = JsonDocument.Parse(await http.GetStringAsync(new Uri(".well-known/openid-configuration", UriKind.Relative)));
        return discovery.RootElement.GetProperty("issuer").GetString()!;
    }
}
