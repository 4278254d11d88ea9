using System.Net;
using IdentityServer.Audit;
using IdentityServer.Sessions;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Sessions;

public sealed class UnlimitedSessionsFactory : IdentityServerFactory
{
    public UnlimitedSessionsFactory() => Settings["Sessions:MaxPerUser"] = "0";
}

/// <summary>Every sign-in is a session that owns its grants; each way a session ends kills them all at once.</summary>
public sealed class SessionEndingTests(UnlimitedSessionsFactory factory) : IClassFixture<UnlimitedSessionsFactory>
{
    [Fact]
    public async Task SignIn_StartsSession_RecordedWithDeviceMethodAndClient_AndTokensCarryItsSid()
    {
        using var client = factory.CreateOidcClient();
        client.Http.DefaultRequestHeaders.UserAgent.ParseAdd(SessionProbe.ChromeOnWindows);
        var tokens = await client.CodeFlowAsync();

        var sid = SessionProbe.Sid(tokens["id_token"]!);
        Assert.Equal(sid, SessionProbe.Sid(tokens["access_token"]!));
        var session = await SessionProbe.FindAsync(factory, sid);
        Assert.NotNull(session);
        Assert.Equal(TestSeed.UserName, session.UserName);
        Assert.Equal("Chrome on Windows", session.DeviceName);
        Assert.Equal("pwd", session.AuthenticationMethods);
        Assert.Null(session.EndedAt);
        Assert.NotNull(session.Ticket);
        Assert.True(sid.Length >= 32, "the session id is 192 random bits");
        Assert.Equal([TestSeed.WebClientId], session.Clients.Select(c => c.ClientId));
        var events = await SessionProbe.EventsAsync(factory, sid);
        Assert.Contains(events, e => e.Type == SecurityEventTypes.SessionStarted);
        Assert.Contains(events, e => e.Type == SecurityEventTypes.SignInSucceeded && e.UserAgent == SessionProbe.ChromeOnWindows);

        // A refresh keeps the session: the new tokens carry the same sid.
        var refreshed = await client.RefreshAsync(tokens["refresh_token"]!);
        Assert.Equal(sid, SessionProbe.Sid(refreshed["id_token"]!));
    }

    [Fact]
    public async Task RpInitiatedLogout_EndsSession_RefreshIsInvalidGrantAndAccessTokenInactive()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();
        var sid = SessionProbe.Sid(tokens["id_token"]!);
        Assert.True(await client.IsActiveAsync(tokens["access_token"]!));

        var url = QueryHelpers.AddQueryString("/connect/endsession", new Dictionary<string, string?>
        {
            ["id_token_hint"] = tokens["id_token"],
            ["post_logout_redirect_uri"] = TestSeed.WebPostLogoutRedirectUri,
        });
        var confirmation = await client.NavigateAsync(url);
        using var done = await client.SubmitAsync(confirmation, button: "confirm-sign-out");
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);

        Assert.Equal("invalid_grant", (await client.RefreshAsync(tokens["refresh_token"]!)).Error);
        Assert.False(await client.IsActiveAsync(tokens["access_token"]!));
        var session = await SessionProbe.FindAsync(factory, sid);
        Assert.Equal(SessionEndReasons.SignedOut, session!.EndReason);
        Assert.Equal(Jwt.Payload(tokens["id_token"]!).GetProperty("sub").GetString(), session.EndedBy);
        Assert.Contains(await SessionProbe.EventsAsync(factory, sid), e => e.Type == SecurityEventTypes.SessionEnded && e.Detail == SessionEndReasons.SignedOut);
    }

    [Fact]
    public async Task EndedElsewhere_BrowserIsSignedOutOnItsNextRequest_AndEveryGrantOfTheSessionDies()
    {
        using var client = factory.CreateOidcClient();
        var first = await client.CodeFlowAsync();
        var second = await client.CodeFlowAsync("openid offline_access");
        var sid = SessionProbe.Sid(first["id_token"]!);
        Assert.Equal(sid, SessionProbe.Sid(second["id_token"]!));

        Assert.True(await SessionProbe.EndAsync(factory, sid, SessionEndReasons.EndedByAdmin, "test-admin"));

        // Both grants of the session are dead at once, access tokens included.
        Assert.Equal("invalid_grant", (await client.RefreshAsync(first["refresh_token"]!)).Error);
        Assert.Equal("invalid_grant", (await client.RefreshAsync(second["refresh_token"]!)).Error);
        Assert.False(await client.IsActiveAsync(first["access_token"]!));
        Assert.False(await client.IsActiveAsync(second["access_token"]!));

        // The browser's cookie now refers to an ended session: it is anonymous.
        using var page = await client.Http.GetAsync(new Uri("/Account/Sessions", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/Account/Login", page.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        var parameters = OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create());
        parameters["prompt"] = "none";
        using var silent = await client.GetAuthorizeAsync(parameters);
        Assert.Equal("login_required", OidcTestClient.Query(silent.Headers.Location!)["error"]);

        var session = await SessionProbe.FindAsync(factory, sid);
        Assert.Equal(SessionEndReasons.EndedByAdmin, session!.EndReason);
        Assert.Equal("test-admin", session.EndedBy);
        Assert.False(await SessionProbe.EndAsync(factory, sid, SessionEndReasons.EndedByAdmin, "test-admin"));
    }

    [Fact]
    public async Task SessionsPage_ListsBothDevices_AndEndingTheOtherKillsItsTokensAndCookie()
    {
        using var phone = factory.CreateOidcClient();
        using var laptop = factory.CreateOidcClient();
        phone.Http.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1");
        laptop.Http.DefaultRequestHeaders.UserAgent.ParseAdd(SessionProbe.ChromeOnWindows);
        var phoneTokens = await phone.CodeFlowAsAsync(TestSeed.SecondUserName, TestSeed.SecondUserPassword);
        var laptopTokens = await laptop.CodeFlowAsAsync(TestSeed.SecondUserName, TestSeed.SecondUserPassword);
        var phoneSid = SessionProbe.Sid(phoneTokens["id_token"]!);
        var laptopSid = SessionProbe.Sid(laptopTokens["id_token"]!);

        var page = await laptop.NavigateAsync("/Account/Sessions");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var document = await OidcTestClient.ParseAsync(page);
        var listed = document.QuerySelectorAll("li.session").ToDictionary(li => li.GetAttribute("data-session-id")!);
        Assert.True(listed.ContainsKey(phoneSid) && listed.ContainsKey(laptopSid));
        Assert.Equal("Safari on iOS", listed[phoneSid].QuerySelector(".device")!.TextContent);
        Assert.NotNull(listed[laptopSid].QuerySelector(".badge.current"));
        Assert.Null(listed[phoneSid].QuerySelector(".badge.current"));
        Assert.Contains("Shop", listed[phoneSid].QuerySelector(".apps")!.TextContent, StringComparison.Ordinal);

        using var ended = await laptop.SubmitFormAsync(page, $"li.session[data-session-id='{phoneSid}'] form");
        Assert.Equal(HttpStatusCode.Redirect, ended.StatusCode);

        Assert.Equal("invalid_grant", (await phone.RefreshAsync(phoneTokens["refresh_token"]!)).Error);
        Assert.False(await phone.IsActiveAsync(phoneTokens["access_token"]!));
        using var phonePage = await phone.Http.GetAsync(new Uri("/Account/Sessions", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, phonePage.StatusCode);
        var record = await SessionProbe.FindAsync(factory, phoneSid);
        Assert.Equal(SessionEndReasons.EndedByUser, record!.EndReason);

        // The laptop is untouched.
        Assert.Equal(HttpStatusCode.OK, (await laptop.RefreshAsync(laptopTokens["refresh_token"]!)).Status);
        var after = await OidcTestClient.ParseAsync(await laptop.NavigateAsync("/Account/Sessions"));
        Assert.Null(after.QuerySelector($"li.session[data-session-id='{phoneSid}']"));
        Assert.Contains(after.QuerySelectorAll("#activity li"), li => li.GetAttribute("data-type") == SecurityEventTypes.SessionEnded);
    }

    [Fact]
    public async Task SessionsPage_SignOutEverywhereElse_EndsAllButThisBrowser()
    {
        using var one = factory.CreateOidcClient();
        using var two = factory.CreateOidcClient();
        using var here = factory.CreateOidcClient();
        var oneTokens = await one.CodeFlowAsync();
        var twoTokens = await two.CodeFlowAsync();
        var hereTokens = await here.CodeFlowAsync();

        var page = await here.NavigateAsync("/Account/Sessions");
        using var ended = await here.SubmitFormAsync(page, "form:has(#end-others)");
        Assert.Equal(HttpStatusCode.Redirect, ended.StatusCode);

        Assert.Equal("invalid_grant", (await one.RefreshAsync(oneTokens["refresh_token"]!)).Error);
        Assert.Equal("invalid_grant", (await two.RefreshAsync(twoTokens["refresh_token"]!)).Error);
        Assert.Equal(HttpStatusCode.OK, (await here.RefreshAsync(hereTokens["refresh_token"]!)).Status);
        Assert.Equal(SessionEndReasons.EndedByUser, (await SessionProbe.FindAsync(factory, SessionProbe.Sid(oneTokens["id_token"]!)))!.EndReason);
    }

    [Fact]
    public async Task SessionsPage_EndingAnotherUsersSession_DoesNothing()
    {
        using var victim = factory.CreateOidcClient();
        using var attacker = factory.CreateOidcClient();
        var victimTokens = await victim.CodeFlowAsync();
        await attacker.CodeFlowAsAsync(TestSeed.SecondUserName, TestSeed.SecondUserPassword);

        var page = await attacker.NavigateAsync("/Account/Sessions");
        using var response = await attacker.SubmitFormAsync(page, "li.session form", new Dictionary<string, string> { ["id"] = SessionProbe.Sid(victimTokens["id_token"]!) });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await victim.RefreshAsync(victimTokens["refresh_token"]!)).Status);
        Assert.Null((await SessionProbe.FindAsync(factory, SessionProbe.Sid(victimTokens["id_token"]!)))!.EndedAt);
    }

    [Fact]
    public async Task ChangePassword_EndsTheOtherSessions_AndKeepsThisBrowserSignedIn()
    {
        const string user = "carol";
        await factory.WithScopeAsync(async services =>
        {
            var users = services.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<IdentityServer.Data.ApplicationUser>>();
            Assert.True((await users.CreateAsync(new IdentityServer.Data.ApplicationUser { UserName = user, Email = "carol@example.com" }, "Carol-Passw0rd!")).Succeeded);
            return 0;
        });
        using var phone = factory.CreateOidcClient();
        using var laptop = factory.CreateOidcClient();
        var phoneTokens = await phone.CodeFlowAsAsync(user, "Carol-Passw0rd!");
        var laptopTokens = await laptop.CodeFlowAsAsync(user, "Carol-Passw0rd!");

        var form = await laptop.NavigateAsync("/Account/ChangePassword");
        using var changed = await laptop.SubmitAsync(form, new Dictionary<string, string>
        {
            ["Input.CurrentPassword"] = "Carol-Passw0rd!",
            ["Input.NewPassword"] = "Carol-N3w-Passw0rd!",
            ["Input.ConfirmPassword"] = "Carol-N3w-Passw0rd!",
        });
        Assert.NotNull((await OidcTestClient.ParseAsync(changed)).QuerySelector("#changed"));

        Assert.Equal("invalid_grant", (await phone.RefreshAsync(phoneTokens["refresh_token"]!)).Error);
        Assert.False(await phone.IsActiveAsync(phoneTokens["access_token"]!));
        var phoneSession = await SessionProbe.FindAsync(factory, SessionProbe.Sid(phoneTokens["id_token"]!));
        Assert.Equal(SessionEndReasons.PasswordChanged, phoneSession!.EndReason);

        // This browser keeps its session and can start new grants without signing in again.
        var laptopSid = SessionProbe.Sid(laptopTokens["id_token"]!);
        Assert.Null((await SessionProbe.FindAsync(factory, laptopSid))!.EndedAt);
        using var sessionsPage = await laptop.Http.GetAsync(new Uri("/Account/Sessions", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, sessionsPage.StatusCode);
        var parameters = OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create());
        parameters["prompt"] = "none";
        using var silent = await laptop.GetAuthorizeAsync(parameters);
        Assert.True(OidcTestClient.Query(silent.Headers.Location!).ContainsKey("code"));
    }

    [Fact]
    public async Task TokenReuse_EndsTheWholeSession_WithItsReasonRecorded()
    {
        using var client = factory.CreateOidcClient();
        var stolen = await client.CodeFlowAsync();
        var sibling = await client.CodeFlowAsync("openid offline_access");
        var sid = SessionProbe.Sid(stolen["id_token"]!);
        var rotated = await client.RefreshAsync(stolen["refresh_token"]!);
        Assert.Equal(HttpStatusCode.OK, rotated.Status);

        Assert.Equal("invalid_grant", (await client.RefreshAsync(stolen["refresh_token"]!)).Error);

        // The other grant of the same sign-in dies with it; the browser is signed out.
        Assert.Equal("invalid_grant", (await client.RefreshAsync(sibling["refresh_token"]!)).Error);
        Assert.False(await client.IsActiveAsync(sibling["access_token"]!));
        Assert.False(await client.IsActiveAsync(rotated["access_token"]!));
        var session = await SessionProbe.FindAsync(factory, sid);
        Assert.Equal(SessionEndReasons.TokenReuse, session!.EndReason);
        Assert.Equal(SessionService.SystemActor, session.EndedBy);
        Assert.Contains(await SessionProbe.EventsAsync(factory, sid), e => e.Type == SecurityEventTypes.TokenReuseDetected);
    }

    [Fact]
    public async Task ReAuthentication_WithPromptLogin_KeepsTheSessionAndItsGrants()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();
        var sid = SessionProbe.Sid(tokens["id_token"]!);

        var pkce = Pkce.Create();
        var parameters = OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", pkce);
        parameters["prompt"] = "login";
        var redirect = await client.AuthorizeAsync(parameters);
        var again = await client.TokenAsync(
            ("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]), ("redirect_uri", TestSeed.WebRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret));

        Assert.Equal(sid, SessionProbe.Sid(again["id_token"]!));
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(tokens["refresh_token"]!)).Status);
    }

    [Fact]
    public async Task ClientCredentialsTokens_BelongToNoSession_AndOutliveEndedSessions()
    {
        using var client = factory.CreateOidcClient();
        var user = await client.CodeFlowAsync();
        var machine = await client.ClientCredentialsAsync();
        Assert.False(Jwt.Payload(machine["access_token"]!).TryGetProperty("sid", out _));

        await SessionProbe.EndAsync(factory, SessionProbe.Sid(user["id_token"]!), SessionEndReasons.EndedByAdmin, "test-admin");

        Assert.True(await client.IsActiveAsync(machine["access_token"]!));
    }

    [Fact]
    public async Task SignIn_AsAnotherUserInTheSameBrowser_EndsThePreviousUsersSessionFirst()
    {
        using var browser = factory.CreateOidcClient();
        var alice = await browser.CodeFlowAsync();
        var aliceSid = SessionProbe.Sid(alice["id_token"]!);

        var login = await browser.NavigateAsync("/Account/Login");
        using var first = await browser.SubmitAsync(login, new Dictionary<string, string>
        {
            ["Input.Login"] = TestSeed.SecondUserName,
            ["Input.Password"] = TestSeed.SecondUserPassword,
        });

        // Alice's session is over, with everything issued in it; the browser is anonymous again.
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Contains("signed out", (await OidcTestClient.ParseAsync(first)).QuerySelector("#login-error")!.TextContent, StringComparison.Ordinal);
        Assert.Equal(SessionEndReasons.SignedOut, (await SessionProbe.FindAsync(factory, aliceSid))!.EndReason);
        Assert.Equal("invalid_grant", (await browser.RefreshAsync(alice["refresh_token"]!)).Error);

        // The form it shows signs Bob in, into a session of his own.
        using var second = await browser.SignInAsync(first, TestSeed.SecondUserName, TestSeed.SecondUserPassword);
        var bob = await browser.CodeFlowAsAsync(TestSeed.SecondUserName, TestSeed.SecondUserPassword);
        var bobSession = await SessionProbe.FindAsync(factory, SessionProbe.Sid(bob["id_token"]!));
        Assert.Equal(TestSeed.SecondUserName, bobSession!.UserName);
        Assert.Null(bobSession.EndedAt);
        Assert.NotEqual(aliceSid, bobSession.Id);
    }

    [Fact]
    public async Task ChangePassword_WrongCurrentPasswordFiveTimes_LocksTheAccountAndSignsOut()
    {
        const string user = "dave";
        await factory.WithScopeAsync(async services =>
        {
            var users = services.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<IdentityServer.Data.ApplicationUser>>();
            Assert.True((await users.CreateAsync(new IdentityServer.Data.ApplicationUser { UserName = user, Email = "dave@example.com" }, "Dave-Passw0rd!")).Succeeded);
            return 0;
        });
        using var browser = factory.CreateOidcClient();
        await browser.CodeFlowAsAsync(user, "Dave-Passw0rd!");

        HttpResponseMessage? last = null;
        for (var i = 0; i < 5; i++)
        {
            var form = await browser.NavigateAsync("/Account/ChangePassword");
            last = await browser.SubmitAsync(form, new Dictionary<string, string>
            {
                ["Input.CurrentPassword"] = "Guess-" + i,
                ["Input.NewPassword"] = "Dave-N3w-Passw0rd!",
                ["Input.ConfirmPassword"] = "Dave-N3w-Passw0rd!",
            });
        }

        Assert.Equal(HttpStatusCode.Redirect, last!.StatusCode);
        Assert.StartsWith("/Account/Login", last.Headers.Location!.OriginalString, StringComparison.Ordinal);
        var locked = await factory.WithScopeAsync(async services =>
        {
            var users = services.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<IdentityServer.Data.ApplicationUser>>();
            return await users.IsLockedOutAsync((await users.FindByNameAsync(user))!);
        });
        Assert.True(locked);
    }
}
