using System.Net;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Passkeys;
using IdentityServer.Tests.Sessions;
using static IdentityServer.Tests.StepUp.StepUpSteps;

namespace IdentityServer.Tests.StepUp;

/// <summary>
/// A passkey sign-in (amr hwk mfa) reaches every level: phr, which nothing else reaches, and mfa,
/// which its owner may use instead of setting up an authenticator app.
/// </summary>
public sealed class PasskeyStepUpTests(StepUpFactory factory) : IClassFixture<StepUpFactory>
{
    [Fact]
    public async Task AcrValuesPhr_PasswordSession_PasskeySignInFromTheSignInPage_GetsTheCodeWithAcrPhr()
    {
        using var browser = factory.CreateOidcClient();
        var id = await AdminTestHelpers.CreateUserAsync(factory, "phr-passkey");
        using var passkey = new TestPasskey();
        await PasskeySteps.StoreAsync(factory, id, passkey);
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "phr-passkey"));
        var request = Portal(acrValues: "phr");

        using var login = await browser.NavigateAsync(OidcTestClient.AuthorizeUrl(request));
        Assert.Equal("/Account/Login", PathOf(login));
        Assert.NotNull((await OidcTestClient.ParseAsync(login)).QuerySelector("#passkey-required"));
        var returnUrl = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(login.RequestMessage!.RequestUri!.Query)["ReturnUrl"].ToString();
        using var signedIn = await PasskeySteps.SignInAsync(browser, passkey, id, returnUrl);
        using var back = await browser.FollowLocalRedirectsAsync(signedIn);

        var tokens = await RedeemPortalAsync(browser, ToClient(back));
        Assert.Equal("phr", Acr(tokens["id_token"]!));
        Assert.Equal(["hwk", "mfa"], Amr(tokens["id_token"]!));
        // The same session, raised: signing in again kept it.
        var session = Assert.Single(await SessionProbe.ForUserAsync(factory, "phr-passkey"));
        Assert.Equal("hwk mfa", session.AuthenticationMethods);
    }

    [Fact]
    public async Task RequireMfa_PasswordSessionOfAPasskeyOwnerWithoutAnApp_IsOfferedThePasskey_WhichGetsTheCodeWithAcrMfa()
    {
        using var browser = factory.CreateOidcClient();
        var id = await AdminTestHelpers.CreateUserAsync(factory, "mfa-passkey");
        using var passkey = new TestPasskey();
        await PasskeySteps.StoreAsync(factory, id, passkey);
        var (request, pkce) = Vault();

        using var login = await browser.NavigateAsync(OidcTestClient.AuthorizeUrl(request));
        using var enrolment = await browser.SignInAsync(login, "mfa-passkey", AdminTestHelpers.Password);
        Assert.Equal("/Account/Authenticator", PathOf(enrolment));
        var link = (await OidcTestClient.ParseAsync(enrolment)).QuerySelector("#use-passkey a")!.GetAttribute("href")!;
        Assert.StartsWith("/Account/Login?ReturnUrl=%2Fconnect%2Fauthorize%3F", link, StringComparison.Ordinal);

        var returnUrl = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(IdentityServerFactory.BaseAddress, link).Query)["ReturnUrl"].ToString();
        using var signedIn = await PasskeySteps.SignInAsync(browser, passkey, id, returnUrl);
        using var back = await browser.FollowLocalRedirectsAsync(signedIn);

        var tokens = await RedeemVaultAsync(browser, ToClient(back), pkce);
        Assert.Equal("mfa", Acr(tokens["id_token"]!));
        Assert.Equal(["hwk", "mfa"], Amr(tokens["id_token"]!));
        Assert.False((await TwoFactor.TwoFactorSteps.AccountAsync(factory, id)).TwoFactorEnabled);
    }

    [Fact]
    public async Task Enrolment_ReachedWithAPasskeySession_GoesStraightBackToTheApplication()
    {
        using var browser = factory.CreateOidcClient();
        var id = await AdminTestHelpers.CreateUserAsync(factory, "mfa-passkey-session");
        using var passkey = new TestPasskey();
        await PasskeySteps.StoreAsync(factory, id, passkey);
        using var signedIn = await PasskeySteps.SignInAsync(browser, passkey, id);
        Assert.True(OidcTestClient.IsRedirect(signedIn));
        var returnUrl = "/connect/authorize?" + string.Join('&', Vault().Parameters.Select(static p => $"{p.Key}={Uri.EscapeDataString(p.Value ?? "")}"));

        using var enrolment = await browser.Http.GetAsync(new Uri("/Account/Authenticator?ReturnUrl=" + Uri.EscapeDataString(returnUrl), UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, enrolment.StatusCode);
        Assert.Equal(returnUrl, enrolment.Headers.Location!.OriginalString);
        Assert.False((await TwoFactor.TwoFactorSteps.AccountAsync(factory, id)).TwoFactorEnabled);
    }

    [Fact]
    public async Task Enrolment_WithoutAPasskey_OffersNoPasskey()
    {
        using var browser = factory.CreateOidcClient();
        await AdminTestHelpers.CreateUserAsync(factory, "mfa-no-passkey");
        var (request, _) = Vault();

        using var login = await browser.NavigateAsync(OidcTestClient.AuthorizeUrl(request));
        using var enrolment = await browser.SignInAsync(login, "mfa-no-passkey", AdminTestHelpers.Password);

        Assert.Equal("/Account/Authenticator", PathOf(enrolment));
        var page = await OidcTestClient.ParseAsync(enrolment);
        Assert.NotNull(page.QuerySelector("#enrolment-required"));
        Assert.Null(page.QuerySelector("#use-passkey"));
    }
}
