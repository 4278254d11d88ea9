using System.Net;
using IdentityServer.Audit;
using IdentityServer.Sessions;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Sessions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static IdentityServer.Tests.TwoFactor.TwoFactorSteps;

namespace IdentityServer.Tests.TwoFactor;

/// <summary>A server whose clock the test moves, so that a sign-in can grow older than <c>TwoFactor:FreshSignIn</c>.</summary>
public sealed class TwoFactorClockFactory : IdentityServerFactory
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override void ConfigureTestServices(IWebHostBuilder builder) =>
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Clock));
}

/// <summary>
/// The Security page: new recovery codes need a current code (counted like one at sign-in);
/// setting up and turning off the authenticator need a sign-in of the last few minutes, else the
/// user goes through the sign-in page first and comes back.
/// </summary>
public sealed class SecurityPageTests(TwoFactorClockFactory factory) : IClassFixture<TwoFactorClockFactory>
{
    private static readonly TimeSpan PastTheWindow = TimeSpan.FromMinutes(6);

    [Fact]
    public async Task RecoveryCodes_New_NeedACurrentCode_AndReplaceTheOldOnes()
    {
        using var browser = factory.CreateOidcClient();
        var (id, app, old) = await EnrolledAccountAsync(factory, browser, "security-codes");

        using (var page = await browser.NavigateAsync("/Account/Security"))
        {
            using var wrong = await browser.SubmitFormAsync(page, "#recovery-codes-form", new Dictionary<string, string> { ["Input.Code"] = app.WrongCode() });
            Assert.Equal("That code is not right. Enter the current code from your authenticator app.", await ErrorAsync(wrong));
        }
        Assert.Equal(1, (await AccountAsync(factory, id)).AccessFailedCount);
        Assert.Equal((SecurityEventTypes.SecondFactorFailed, "recovery_codes_wrong_code"), (await EventsAsync(factory, id))[^1]);

        using var form = await browser.NavigateAsync("/Account/Security");
        using var answer = await browser.SubmitFormAsync(form, "#recovery-codes-form", new Dictionary<string, string> { ["Input.Code"] = await app.NextCodeAsync() });

        var fresh = RecoveryCodes(await OidcTestClient.ParseAsync(answer));
        Assert.Equal(10, fresh.Count);
        Assert.Empty(fresh.Intersect(old));
        Assert.Equal(0, (await AccountAsync(factory, id)).AccessFailedCount);
        Assert.Equal((SecurityEventTypes.RecoveryCodesGenerated, "10"), (await EventsAsync(factory, id))[^1]);
        using var other = factory.CreateOidcClient();
        using var step = await SecondStepAsync(other, "security-codes");
        using var oldCode = await CodeAsync(other, step, old[0]);
        Assert.Equal(WrongCodeMessage, await ErrorAsync(oldCode));
        using var newCode = await CodeAsync(other, step, fresh[0]);
        Assert.Equal(HttpStatusCode.Redirect, newCode.StatusCode);
    }

    [Fact]
    public async Task TurnOff_RightAfterSigningIn_TurnsItOffDeletesTheCodesAndEndsTheOtherSessions()
    {
        using var browser = factory.CreateOidcClient();
        var (id, app, _) = await EnrolledAccountAsync(factory, browser, "security-off");
        var key = (await factory.WithScopeAsync(async services =>
            await services.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<Data.ApplicationUser>>().GetAuthenticatorKeyAsync((await AccountAsync(factory, id)))))!;
        using var phone = factory.CreateOidcClient();
        using var step = await SecondStepAsync(phone, "security-off");
        Assert.Equal(HttpStatusCode.Redirect, (await CodeAsync(phone, step, await app.NextCodeAsync())).StatusCode);
        // This browser signs in again (with the code), so its sign-in is the fresh one.
        using var again = await SecondStepAsync(browser, "security-off", returnUrl: "/Account/Security");
        using var back = await CodeAsync(browser, again, await app.NextCodeAsync());
        Assert.Equal("/Account/Security", back.Headers.Location!.OriginalString);

        using var page = await browser.NavigateAsync("/Account/Security");
        using var off = await browser.SubmitFormAsync(page, "#turn-off-form");

        Assert.Equal(HttpStatusCode.Redirect, off.StatusCode);
        Assert.Equal("/Account/Security?off=1", off.Headers.Location!.OriginalString);
        var account = await AccountAsync(factory, id);
        Assert.False(account.TwoFactorEnabled);
        Assert.Equal(0, await RecoveryCodesLeftAsync(factory, id));
        var newKey = await factory.WithScopeAsync(async services =>
            await services.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<Data.ApplicationUser>>().GetAuthenticatorKeyAsync(account));
        Assert.NotEqual(key, newKey);
        Assert.Equal((SecurityEventTypes.AuthenticatorDisabled, null),
            (await EventsAsync(factory, id)).Last(static e => e.Type != SecurityEventTypes.SessionEnded));
        var sessions = await SessionProbe.ForUserAsync(factory, "security-off");
        // The phone's session ended; this browser's stays.
        Assert.Single(sessions, static s => s.EndReason == SessionEndReasons.SecondFactorChanged);
        Assert.Single(sessions, static s => s.EndedAt is null);
        using var shown = await browser.FollowLocalRedirectsAsync(off);
        var document = await OidcTestClient.ParseAsync(shown);
        Assert.StartsWith("Off.", document.QuerySelector("#authenticator-state")!.TextContent, StringComparison.Ordinal);
        // Signing in needs the password alone again.
        using var later = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(later, "security-off"));
    }

    [Fact]
    public async Task TurnOff_SignInOlderThanTheWindow_GoesThroughTheSignInPageAndBack()
    {
        using var browser = factory.CreateOidcClient();
        var (id, app, _) = await EnrolledAccountAsync(factory, browser, "security-stale");
        var sessionBefore = (await SessionProbe.ForUserAsync(factory, "security-stale")).Single(static s => s.EndedAt is null).Id;
        factory.Clock.Advance(PastTheWindow);

        using var page = await browser.NavigateAsync("/Account/Security");
        var document = await OidcTestClient.ParseAsync(page);
        Assert.Null(document.QuerySelector("#turn-off-form"));
        Assert.Equal("/Account/Login?ReturnUrl=%2FAccount%2FSecurity", document.QuerySelector("#turn-off-sign-in")!.GetAttribute("href"));
        // Posting anyway (the form of a page left open) changes nothing.
        var token = document.QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        using var posted = await browser.Http.PostAsync(new Uri("/Account/Security?handler=TurnOff", UriKind.Relative),
            new FormUrlEncodedContent([new("__RequestVerificationToken", token)]));
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        Assert.Equal("/Account/Login?ReturnUrl=%2FAccount%2FSecurity", posted.Headers.Location!.OriginalString);
        Assert.True((await AccountAsync(factory, id)).TwoFactorEnabled);

        // Password and code again; the session is kept, and now fresh.
        using var step = await SecondStepAsync(browser, "security-stale", returnUrl: "/Account/Security");
        using var back = await CodeAsync(browser, step, await app.NextCodeAsync());
        Assert.Equal("/Account/Security", back.Headers.Location!.OriginalString);
        using var fresh = await browser.NavigateAsync("/Account/Security");
        using var off = await browser.SubmitFormAsync(fresh, "#turn-off-form");
        Assert.Equal("/Account/Security?off=1", off.Headers.Location!.OriginalString);
        Assert.False((await AccountAsync(factory, id)).TwoFactorEnabled);
        Assert.Null((await SessionProbe.FindAsync(factory, sessionBefore))!.EndedAt);
    }

    [Fact]
    public async Task SetUp_SignInOlderThanTheWindow_GoesThroughTheSignInPageFirst()
    {
        using var browser = factory.CreateOidcClient();
        var id = await AdminTestHelpers.CreateUserAsync(factory, "security-setup-stale");
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "security-setup-stale"));
        factory.Clock.Advance(PastTheWindow);

        using var page = await browser.Http.GetAsync(new Uri("/Account/Authenticator", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/Account/Login?ReturnUrl=%2FAccount%2FAuthenticator", page.Headers.Location!.OriginalString);
        Assert.False((await AccountAsync(factory, id)).TwoFactorEnabled);
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "security-setup-stale"));
        await EnrolAsync(browser);
    }
}
