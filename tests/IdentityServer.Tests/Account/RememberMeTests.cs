using System.Net;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Sessions;
using Microsoft.Net.Http.Headers;

namespace IdentityServer.Tests.Account;

/// <summary>
/// "Remember me" on the sign-in page. Ticked, the session cookie is persistent and expires with the
/// session (its idle timeout or absolute end, whichever comes first), also each time it is renewed;
/// unticked, it has no expiry and ends with the browser. The choice belongs to the session: renewals
/// and a password change keep it, and signing in again offers it ticked. The server runs on the
/// test's clock: sessions idle out after 1 hour and end 3 hours after sign-in.
/// </summary>
public sealed class RememberMeTests(SessionClockFactory factory) : IClassFixture<SessionClockFactory>
{
    private const string SessionCookie = "idp.session";

    private static readonly TimeSpan IdleTimeout = TimeSpan.FromHours(1);

    [Fact]
    public async Task RememberMe_Ticked_IssuesAPersistentCookieEndingWithTheSession()
    {
        var userId = await AdminTestHelpers.CreateUserAsync(factory, "remember-ticked");
        using var browser = factory.CreateOidcClient();

        using var signedIn = await SignInAsync(browser, "remember-ticked", remember: true);

        var session = Assert.Single(await AdminTestHelpers.SessionsAsync(factory, userId));
        var expires = Assert.IsType<DateTimeOffset>(SessionCookieOf(signedIn).Expires);
        Assert.True(expires > factory.Clock.GetUtcNow());
        Assert.True(expires <= session.ExpiresAt, $"The cookie expires at {expires:O}, after the session's end {session.ExpiresAt:O}.");
        // The idle timeout comes first (to the second, as the header writes it).
        Assert.Equal(WholeSeconds(factory.Clock.GetUtcNow() + IdleTimeout), expires);
    }

    [Fact]
    public async Task RememberMe_Unticked_IssuesACookieEndingWithTheBrowser()
    {
        await AdminTestHelpers.CreateUserAsync(factory, "remember-unticked");
        using var browser = factory.CreateOidcClient();

        using var signedIn = await SignInAsync(browser, "remember-unticked", remember: false);

        var cookie = SessionCookieOf(signedIn);
        Assert.Null(cookie.Expires);
        Assert.Null(cookie.MaxAge);
    }

    [Fact]
    public async Task RememberMe_CookieRenewals_StayPersistentAndNeverOutliveTheSession()
    {
        var userId = await AdminTestHelpers.CreateUserAsync(factory, "remember-renewed");
        using var browser = factory.CreateOidcClient();
        using (await SignInAsync(browser, "remember-renewed", remember: true))
        {
        }
        var end = Assert.Single(await AdminTestHelpers.SessionsAsync(factory, userId)).ExpiresAt;

        // A visit every 50 minutes renews the cookie (the security-stamp check runs every 30); the
        // last one is 30 minutes before the session's absolute end, which is then the cookie's end.
        foreach (var _ in Enumerable.Range(0, 3))
        {
            factory.Clock.Advance(TimeSpan.FromMinutes(50));
            using var page = await browser.Http.GetAsync(new Uri("/Account/Sessions", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);

            var now = factory.Clock.GetUtcNow();
            var expires = Assert.IsType<DateTimeOffset>(SessionCookieOf(page).Expires);
            Assert.True(expires > now);
            Assert.True(expires <= end, $"The renewed cookie expires at {expires:O}, after the session's end {end:O}.");
            Assert.Equal(WholeSeconds(now + IdleTimeout < end ? now + IdleTimeout : end), expires);
        }
    }

    [Fact]
    public async Task RememberMe_Unticked_CookieRenewalStaysABrowserSessionCookie()
    {
        await AdminTestHelpers.CreateUserAsync(factory, "remember-unticked-renewed");
        using var browser = factory.CreateOidcClient();
        using (await SignInAsync(browser, "remember-unticked-renewed", remember: false))
        {
        }

        factory.Clock.Advance(TimeSpan.FromMinutes(50));
        using var page = await browser.Http.GetAsync(new Uri("/Account/Sessions", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var renewed = SessionCookieOf(page);
        Assert.Null(renewed.Expires);
        Assert.Null(renewed.MaxAge);
    }

    [Fact]
    public async Task RememberMe_SigningInAgainAndChangingThePassword_KeepTheSessionsChoice()
    {
        var userId = await AdminTestHelpers.CreateUserAsync(factory, "remember-kept");
        using var browser = factory.CreateOidcClient();
        using (await SignInAsync(browser, "remember-kept", remember: true))
        {
        }

        // Signing in again in the same session offers the choice ticked, and the form sends it as it is.
        var form = await browser.NavigateAsync("/Account/Login");
        Assert.True(await IsRememberMeTickedAsync(form));
        using (var again = await browser.SubmitAsync(form, new Dictionary<string, string> { ["Input.Login"] = "remember-kept", ["Input.Password"] = AdminTestHelpers.Password }))
        {
            Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
            Assert.NotNull(SessionCookieOf(again).Expires);
        }

        var change = await browser.NavigateAsync("/Account/ChangePassword");
        using (var changed = await browser.SubmitAsync(change, new Dictionary<string, string>
        {
            ["Input.CurrentPassword"] = AdminTestHelpers.Password,
            ["Input.NewPassword"] = "Remember-N3w-Passw0rd!",
            ["Input.ConfirmPassword"] = "Remember-N3w-Passw0rd!",
        }))
        {
            Assert.NotNull((await OidcTestClient.ParseAsync(changed)).QuerySelector("#changed"));
            Assert.NotNull(SessionCookieOf(changed).Expires);
        }

        // The box unticked when signing in again: from then on the cookie ends with the browser.
        form = await browser.NavigateAsync("/Account/Login");
        Assert.True(await IsRememberMeTickedAsync(form));
        using (var unticked = await browser.SubmitAsync(form, new Dictionary<string, string>
        {
            ["Input.Login"] = "remember-kept",
            ["Input.Password"] = "Remember-N3w-Passw0rd!",
            ["Input.RememberMe"] = "false",
        }))
        {
            Assert.Equal(HttpStatusCode.Redirect, unticked.StatusCode);
            Assert.Null(SessionCookieOf(unticked).Expires);
        }
        Assert.False(await IsRememberMeTickedAsync(await browser.NavigateAsync("/Account/Login")));

        // All of it in the one session.
        var session = Assert.Single(await AdminTestHelpers.SessionsAsync(factory, userId));
        Assert.Null(session.EndedAt);
    }

    private static async Task<HttpResponseMessage> SignInAsync(OidcTestClient browser, string login, bool remember)
    {
        var page = await browser.NavigateAsync("/Account/Login");
        Assert.False(await IsRememberMeTickedAsync(page));
        var values = new Dictionary<string, string> { ["Input.Login"] = login, ["Input.Password"] = AdminTestHelpers.Password };
        if (remember)
        {
            values["Input.RememberMe"] = "true";
        }
        var response = await browser.SubmitAsync(page, values);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response;
    }

    private static async Task<bool> IsRememberMeTickedAsync(HttpResponseMessage page)
    {
        var box = (await OidcTestClient.ParseAsync(page)).QuerySelector("input[type=checkbox][name='Input.RememberMe']");
        Assert.NotNull(box);
        return box.HasAttribute("checked");
    }

    /// <summary>The session cookie a response sets (exactly one).</summary>
    private static SetCookieHeaderValue SessionCookieOf(HttpResponseMessage response)
    {
        var cookies = SetCookieHeaderValue.ParseList(response.Headers.TryGetValues("Set-Cookie", out var values) ? [.. values] : []);
        return Assert.Single(cookies, static c => c.Name == SessionCookie);
    }

    private static DateTimeOffset WholeSeconds(DateTimeOffset time) => time.AddTicks(-(time.Ticks % TimeSpan.TicksPerSecond));
}
