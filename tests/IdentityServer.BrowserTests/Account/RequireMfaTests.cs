using System.Net;
using System.Text.Json;
using IdentityServer.Authorization;
using IdentityServer.BrowserTests.Infrastructure;
using IdentityServer.Seeding;
using IdentityServer.StepUp;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using OpenIddict.Abstractions;
using OtpNet;

namespace IdentityServer.BrowserTests.Account;

/// <summary>
/// A client that requires two factors (RequireMfa), and a user who has none: after the password the
/// user is led to set up an authenticator app, and the code that confirms it lets the application in.
/// </summary>
public sealed class RequireMfaTests(IdentityServerHost host, ChromiumFixture chromium)
    : IClassFixture<IdentityServerHost>, IClassFixture<ChromiumFixture>
{
    private const int StepSeconds = 30;

    [BrowserFact]
    public async Task RequireMfa_UserWithoutSecondFactor_SetsUpAnAuthenticatorThenGetsTheCode()
    {
        await RequireMfaForTheDemoAppAsync();
        await using var browser = await BrowserSession.OpenAsync(chromium.Browser, host.BaseAddress);
        var request = AuthorizationRequest.Create();

        await browser.StartAsync(request);
        await browser.Login.WaitAsync();
        await browser.Login.SignInAsync(DevelopmentSeed.UserName, DevelopmentSeed.Password);

        var setUp = new AuthenticatorPage(browser.Page);
        await setUp.WaitAsync();
        await Assertions.Expect(browser.Page.Locator("#enrolment-required")).ToBeVisibleAsync();
        var totp = new Totp(Base32Encoding.ToBytes((await setUp.Key.InnerTextAsync()).Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant()));
        await setUp.TurnOnAsync(totp.ComputeTotp(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() / StepSeconds * StepSeconds).UtcDateTime));
        await Assertions.Expect(setUp.RecoveryCodes).ToHaveCountAsync(10);
        // No code was issued before the second factor; the page leads back to the application.
        Assert.DoesNotContain(browser.Navigations, static n => n.Url.AbsoluteUri.StartsWith(DevelopmentSeed.WebRedirectUri, StringComparison.Ordinal));
        await browser.Page.Locator("#continue").ClickAsync();

        await browser.Consent.WaitAsync();
        await browser.Consent.AllowAsync();
        var callback = await browser.WaitForClientCallbackAsync();
        Assert.Equal(request.State, callback["state"]);
        using var http = host.CreateHttpClient();
        var idToken = await request.RedeemForIdTokenAsync(http, callback["code"]);
        Assert.Equal("mfa", idToken.GetProperty("acr").GetString());
        Assert.Equal(["pwd", "otp", "mfa"], idToken.GetProperty("amr").EnumerateArray().Select(static v => v.GetString()));
    }

    /// <summary>What <c>"RequireMfa": true</c> in a seed file does, for the demo app of this test's own server.</summary>
    private async Task RequireMfaForTheDemoAppAsync()
    {
        // Started (and seeded) first: the change must not be overwritten by the start-up seed.
        Assert.NotNull(host.BaseAddress);
        await using var scope = host.Services.CreateAsyncScope();
        using var _ = LookupCache.Bypass();
        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        var application = await applications.FindByClientIdAsync(DevelopmentSeed.WebClientId);
        var descriptor = new OpenIddictApplicationDescriptor();
        await applications.PopulateAsync(descriptor, application!);
        descriptor.Properties[StepUpPolicy.RequireMfaProperty] = JsonSerializer.SerializeToElement(true);
        await applications.UpdateAsync(application!, descriptor);
    }
}
