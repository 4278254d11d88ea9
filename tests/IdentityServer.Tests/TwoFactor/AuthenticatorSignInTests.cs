using System.Net;
using IdentityServer.Audit;
using IdentityServer.Sessions;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Sessions;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static IdentityServer.Tests.TwoFactor.TwoFactorSteps;

namespace IdentityServer.Tests.TwoFactor;

/// <summary>
/// Setting up an authenticator app from the key on the page, and signing in with it: the code is
/// asked after the password, signs in with amr pwd otp mfa, works once, and wrong codes lock the
/// account exactly as wrong passwords do, however many arrive at once.
/// </summary>
public sealed class AuthenticatorSignInTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    private LockoutOptions Lockout => factory.Services.GetRequiredService<IOptions<IdentityOptions>>().Value.Lockout;

    [Fact]
    public async Task SetUp_CodeFromTheKeyOnThePage_TurnsTheAuthenticatorOnWithTenRecoveryCodes()
    {
        using var browser = factory.CreateOidcClient();
        var (id, _, codes) = await EnrolledAccountAsync(factory, browser, "totp-setup");

        Assert.All(codes, static c => Assert.Matches("^[A-Z0-9]{5}-[A-Z0-9]{5}$", c));
        Assert.Equal(10, codes.Distinct().Count());
        var account = await AccountAsync(factory, id);
        Assert.True(account.TwoFactorEnabled);
        Assert.NotNull(account.AuthenticatorTimeStep);
        Assert.Equal(10, await RecoveryCodesLeftAsync(factory, id));
        Assert.Equal([(SecurityEventTypes.AuthenticatorEnabled, null), (SecurityEventTypes.RecoveryCodesGenerated, "10")],
            (await EventsAsync(factory, id)).Where(static e => e.Type != SecurityEventTypes.SignInSucceeded));

        using var security = await browser.NavigateAsync("/Account/Security");
        var page = await OidcTestClient.ParseAsync(security);
        Assert.StartsWith("On.", page.QuerySelector("#authenticator-state")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("10 of 10 recovery codes left.", page.QuerySelector("#recovery-codes-left")!.TextContent);
        // Shown once: the codes are not on the page again.
        Assert.Empty(page.QuerySelectorAll("#recovery-codes"));
    }

    [Fact]
    public async Task SetUp_WrongCode_LeavesTheAuthenticatorOffAndKeepsTheKey()
    {
        using var browser = factory.CreateOidcClient();
        var id = await AdminTestHelpers.CreateUserAsync(factory, "totp-setup-wrong");
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "totp-setup-wrong"));
        using var page = await browser.NavigateAsync("/Account/Authenticator");
        var key = (await OidcTestClient.ParseAsync(page)).QuerySelector("#authenticator-key")!.TextContent;
        var app = TestAuthenticator.FromPage(key);

        using var answer = await browser.SubmitAsync(page, new Dictionary<string, string> { ["Input.Code"] = app.WrongCode() });

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var document = await OidcTestClient.ParseAsync(answer);
        Assert.StartsWith("That code is not right.", document.QuerySelector("#code-error")!.TextContent, StringComparison.Ordinal);
        // The same key again: the user may have scanned it already.
        Assert.Equal(key, document.QuerySelector("#authenticator-key")!.TextContent);
        var account = await AccountAsync(factory, id);
        Assert.False(account.TwoFactorEnabled);
        Assert.Equal(0, account.AccessFailedCount);
    }

    [Fact]
    public async Task SetUp_EndsTheOtherSessions_AndThisBrowserStaysSignedIn()
    {
        using var other = factory.CreateOidcClient();
        using var browser = factory.CreateOidcClient();
        await AdminTestHelpers.CreateUserAsync(factory, "totp-other-sessions");
        Assert.True(await AdminTestHelpers.TrySignInAsync(other, "totp-other-sessions"));
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "totp-other-sessions"));

        await EnrolAsync(browser);

        var sessions = await SessionProbe.ForUserAsync(factory, "totp-other-sessions");
        Assert.Equal(2, sessions.Count);
        Assert.Equal(SessionEndReasons.SecondFactorChanged, sessions[0].EndReason);
        Assert.Null(sessions[1].EndedAt);
        using var here = await browser.Http.GetAsync(new Uri("/Account/Security", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, here.StatusCode);
        using var there = await other.Http.GetAsync(new Uri("/Account/Security", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, there.StatusCode);
    }

    [Fact]
    public async Task SignIn_AuthenticatorOn_AsksForTheCodeBeforeAnySessionStarts()
    {
        using var first = factory.CreateOidcClient();
        await EnrolledAccountAsync(factory, first, "totp-asks");
        using var browser = factory.CreateOidcClient();

        using var step = await SecondStepAsync(browser, "totp-asks");

        var document = await OidcTestClient.ParseAsync(step);
        Assert.NotNull(document.QuerySelector("input[name='Input.Code'][autocomplete=one-time-code]"));
        Assert.Null(document.QuerySelector("input[name*=User]"));
        // The page keeps the strict policy of every page: no inline script, style or handler.
        Assert.Contains("default-src 'self'", step.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Empty(document.QuerySelectorAll("script:not([src]), [style], style"));
        Assert.DoesNotContain(document.All, static e => e.Attributes.Any(static a => a.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase)));
        // Not signed in yet: the password alone started nothing.
        using var sessionsPage = await browser.Http.GetAsync(new Uri("/Account/Sessions", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, sessionsPage.StatusCode);
        Assert.Single(await SessionProbe.ForUserAsync(factory, "totp-asks"));
    }

    [Fact]
    public async Task SignIn_RightCode_SignsInWithAmrPwdOtpMfa_OnTheSessionAndInTheIdToken()
    {
        using var first = factory.CreateOidcClient();
        var (id, app, _) = await EnrolledAccountAsync(factory, first, "totp-amr");
        using var browser = factory.CreateOidcClient();

        var tokens = await CodeFlowAsync(browser, "totp-amr", await app.NextCodeAsync());

        var idToken = Jwt.Payload(tokens["id_token"]!);
        Assert.Equal(["pwd", "otp", "mfa"], idToken.GetProperty("amr").EnumerateArray().Select(static v => v.GetString()));
        var session = await SessionProbe.FindAsync(factory, SessionProbe.Sid(tokens["id_token"]!));
        Assert.Equal("pwd otp mfa", session!.AuthenticationMethods);
        Assert.Contains((SecurityEventTypes.SignInSucceeded, "pwd otp mfa"), await EventsAsync(factory, id));
        // The access token does not say how the user signed in; a refreshed ID token still does.
        Assert.False(Jwt.Payload(tokens["access_token"]!).TryGetProperty("amr", out _));
        var refreshed = await browser.RefreshAsync(tokens["refresh_token"]!);
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        Assert.Equal(["pwd", "otp", "mfa"], Jwt.Payload(refreshed["id_token"]!).GetProperty("amr").EnumerateArray().Select(static v => v.GetString()));
    }

    [Fact]
    public async Task SignIn_PasswordOnly_HasAmrPwdAsAnArrayInTheIdToken()
    {
        using var browser = factory.CreateOidcClient();
        await AdminTestHelpers.CreateUserAsync(factory, "totp-none");

        var tokens = await browser.CodeFlowAsAsync("totp-none", AdminTestHelpers.Password);

        Assert.Equal(["pwd"], Jwt.Payload(tokens["id_token"]!).GetProperty("amr").EnumerateArray().Select(static v => v.GetString()));
    }

    [Fact]
    public async Task SignIn_CodeUsedBefore_IsRefusedAndCounted()
    {
        using var first = factory.CreateOidcClient();
        var (id, app, _) = await EnrolledAccountAsync(factory, first, "totp-replay");
        using var victim = factory.CreateOidcClient();
        using var victimStep = await SecondStepAsync(victim, "totp-replay");
        using var signedIn = await CodeAsync(victim, victimStep, await app.NextCodeAsync());
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);

        // Someone who saw the password and the code typed in uses them at once, within the code's 30 seconds.
        using var attacker = factory.CreateOidcClient();
        using var step = await SecondStepAsync(attacker, "totp-replay");
        using var replay = await CodeAsync(attacker, step, app.LastCode);

        Assert.Equal(WrongCodeMessage, await ErrorAsync(replay));
        Assert.Equal(1, (await AccountAsync(factory, id)).AccessFailedCount);
        Assert.Equal((SecurityEventTypes.SecondFactorFailed, "replayed_code"), (await EventsAsync(factory, id))[^1]);
        // An older code than the one used is refused the same way.
        using var older = await CodeAsync(attacker, step, app.CodeFor(TestAuthenticator.CurrentStep - 1));
        Assert.Equal(WrongCodeMessage, await ErrorAsync(older));
    }

    [Fact]
    public async Task SignIn_OneCodeFromParallelBrowsers_SignsInExactlyOnce()
    {
        using var first = factory.CreateOidcClient();
        var (id, app, _) = await EnrolledAccountAsync(factory, first, "totp-parallel-replay");
        var browsers = Enumerable.Range(0, 4).Select(_ => factory.CreateOidcClient()).ToList();
        try
        {
            var steps = new List<HttpResponseMessage>();
            foreach (var browser in browsers)
            {
                steps.Add(await SecondStepAsync(browser, "totp-parallel-replay"));
            }
            var code = await app.NextCodeAsync();

            var answers = await BurstAsync(browsers, steps, _ => code);

            Assert.Equal(1, answers.Count(static a => a.Status == HttpStatusCode.Redirect));
            Assert.Equal(3, answers.Count(static a => a.Error == WrongCodeMessage));
            var events = await EventsAsync(factory, id);
            Assert.Equal(3, events.Count(static e => e == (SecurityEventTypes.SecondFactorFailed, "replayed_code")));
        }
        finally
        {
            browsers.ForEach(static b => b.Dispose());
        }
    }

    [Fact]
    public async Task SignIn_WrongCodes_LockAtTheLimit_EvenWithTheRightPasswordBetweenThem()
    {
        var limit = Lockout.MaxFailedAccessAttempts;
        using var first = factory.CreateOidcClient();
        var (id, app, _) = await EnrolledAccountAsync(factory, first, "totp-lock");
        using var attacker = factory.CreateOidcClient();

        // The attacker knows the password: starting again with it does not wipe the count.
        for (var failure = 1; failure < limit; failure++)
        {
            using var step = await SecondStepAsync(attacker, "totp-lock");
            using var wrong = await CodeAsync(attacker, step, app.WrongCode());
            Assert.Equal(WrongCodeMessage, await ErrorAsync(wrong));
            Assert.Equal(failure, (await AccountAsync(factory, id)).AccessFailedCount);
        }
        using var lastStep = await SecondStepAsync(attacker, "totp-lock");
        using var locking = await CodeAsync(attacker, lastStep, app.WrongCode());

        Assert.Equal(LockedMessage, await ErrorAsync(locking));
        var account = await AccountAsync(factory, id);
        Assert.Equal(0, account.AccessFailedCount);
        Assert.True(account.LockoutEnd > DateTimeOffset.UtcNow);
        // Locked: the password step refuses, even the right password.
        using var refused = await PasswordAsync(attacker, "totp-lock");
        Assert.Equal(LockedMessage, await ErrorAsync(refused));
        var events = await EventsAsync(factory, id);
        Assert.Equal(limit - 1, events.Count(static e => e == (SecurityEventTypes.SecondFactorFailed, "wrong_code")));
        Assert.Equal(1, events.Count(static e => e == (SecurityEventTypes.LockedOut, "wrong_code")));
        Assert.DoesNotContain(events, static e => e.Type == SecurityEventTypes.SignInSucceeded && e.Detail != "pwd");
    }

    [Fact]
    public async Task SignIn_ParallelWrongCodes_LockAfterExactlyTheLimit()
    {
        var limit = Lockout.MaxFailedAccessAttempts;
        var attempts = limit + 3;
        using var first = factory.CreateOidcClient();
        var (id, app, _) = await EnrolledAccountAsync(factory, first, "totp-parallel-lock");
        var browsers = Enumerable.Range(0, attempts).Select(_ => factory.CreateOidcClient()).ToList();
        try
        {
            var steps = new List<HttpResponseMessage>();
            foreach (var browser in browsers)
            {
                steps.Add(await SecondStepAsync(browser, "totp-parallel-lock"));
            }
            var wrong = app.WrongCode();

            var answers = await BurstAsync(browsers, steps, _ => wrong);

            Assert.All(answers, static a => Assert.Equal(HttpStatusCode.OK, a.Status));
            Assert.Equal(limit - 1, answers.Count(static a => a.Error == WrongCodeMessage));
            Assert.Equal(attempts - limit + 1, answers.Count(static a => a.Error == LockedMessage));
            var account = await AccountAsync(factory, id);
            Assert.Equal(0, account.AccessFailedCount);
            Assert.True(account.LockoutEnd > DateTimeOffset.UtcNow);
            var events = await EventsAsync(factory, id);
            Assert.Equal(limit - 1, events.Count(static e => e == (SecurityEventTypes.SecondFactorFailed, "wrong_code")));
            Assert.Equal(1, events.Count(static e => e == (SecurityEventTypes.LockedOut, "wrong_code")));
            Assert.Equal(attempts - limit, events.Count(static e => e == (SecurityEventTypes.LockedOut, "second_factor")));
        }
        finally
        {
            browsers.ForEach(static b => b.Dispose());
        }
    }

    [Fact]
    public async Task SignIn_RecoveryCode_WorksOnceWithAmrPwdMfa()
    {
        using var first = factory.CreateOidcClient();
        var (id, _, codes) = await EnrolledAccountAsync(factory, first, "totp-recovery");
        using var browser = factory.CreateOidcClient();

        // As people type it: lower case, without the dash.
        var tokens = await CodeFlowAsync(browser, "totp-recovery", codes[3].Replace("-", "", StringComparison.Ordinal).ToLowerInvariant());

        Assert.Equal(["pwd", "mfa"], Jwt.Payload(tokens["id_token"]!).GetProperty("amr").EnumerateArray().Select(static v => v.GetString()));
        Assert.Equal(9, await RecoveryCodesLeftAsync(factory, id));
        var events = await EventsAsync(factory, id);
        Assert.Contains((SecurityEventTypes.RecoveryCodeUsed, "9"), events);
        Assert.Contains((SecurityEventTypes.SignInSucceeded, "pwd mfa"), events);

        using var again = factory.CreateOidcClient();
        using var step = await SecondStepAsync(again, "totp-recovery");
        using var reused = await CodeAsync(again, step, codes[3]);
        Assert.Equal(WrongCodeMessage, await ErrorAsync(reused));
        Assert.Equal((SecurityEventTypes.SecondFactorFailed, "wrong_recovery_code"), (await EventsAsync(factory, id))[^1]);
        Assert.Equal(9, await RecoveryCodesLeftAsync(factory, id));
    }

    [Fact]
    public async Task SecondStep_WithoutThePasswordStep_LeadsToTheSignInPage()
    {
        using var browser = factory.CreateOidcClient();
        var id = await AdminTestHelpers.UserIdAsync(factory, TestSeed.SecondUserName);

        using var page = await browser.Http.GetAsync(new Uri("/Account/LoginWith2fa?ReturnUrl=%2FAccount%2FSessions", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/Account/Login?ReturnUrl=%2FAccount%2FSessions", page.Headers.Location!.OriginalString);

        // A form naming an account is not a pending sign-in.
        using var login = await browser.NavigateAsync("/Account/Login");
        var token = (await OidcTestClient.ParseAsync(login)).QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        using var forged = await browser.Http.PostAsync(new Uri("/Account/LoginWith2fa", UriKind.Relative), new FormUrlEncodedContent([
            new("Input.Code", "123456"), new("UserId", id), new("Input.UserId", id), new("__RequestVerificationToken", token)]));
        Assert.Equal(HttpStatusCode.Redirect, forged.StatusCode);
        Assert.StartsWith("/Account/Login", forged.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.DoesNotContain(forged.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [], static c => c.StartsWith("idp.session=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SecondStep_AccountLockedByAnAdminBetweenTheSteps_RefusesTheRightCode()
    {
        using var first = factory.CreateOidcClient();
        var (id, app, _) = await EnrolledAccountAsync(factory, first, "totp-admin-locked");
        using var browser = factory.CreateOidcClient();
        using var step = await SecondStepAsync(browser, "totp-admin-locked");
        await factory.WithScopeAsync(services => services.GetRequiredService<IdentityServer.Admin.UserAdministration>().LockAsync(id, "test-admin", CancellationToken.None));

        using var answer = await CodeAsync(browser, step, await app.NextCodeAsync());

        Assert.Equal(LockedMessage, await ErrorAsync(answer));
        Assert.Equal((SecurityEventTypes.LockedOut, "second_factor"), (await EventsAsync(factory, id))[^1]);
        Assert.Equal(DateTimeOffset.MaxValue, (await AccountAsync(factory, id)).LockoutEnd);
    }

    [Fact]
    public async Task SecondStep_SecondFactorsResetBetweenTheSteps_StartsAgainWithThePassword()
    {
        using var first = factory.CreateOidcClient();
        var (id, app, _) = await EnrolledAccountAsync(factory, first, "totp-reset-between");
        using var browser = factory.CreateOidcClient();
        using var step = await SecondStepAsync(browser, "totp-reset-between");
        await factory.WithScopeAsync(services => services.GetRequiredService<IdentityServer.Admin.UserAdministration>().ResetSecondFactorsAsync(id, "test-admin", CancellationToken.None));

        using var answer = await CodeAsync(browser, step, await app.NextCodeAsync());

        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        Assert.StartsWith("/Account/Login", answer.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.Equal(0, (await AccountAsync(factory, id)).AccessFailedCount);
        Assert.DoesNotContain(await SessionProbe.ForUserAsync(factory, "totp-reset-between"), static s => s.EndedAt is null);
    }

    [Fact]
    public async Task SecondStep_BadInput_ShowsThePageAndNeverAServerError()
    {
        using var first = factory.CreateOidcClient();
        var (id, _, _) = await EnrolledAccountAsync(factory, first, "totp-bad-input");
        string[] inputs = ["", " ", "abc", "+123456", "0123456", "12345", "1234567", "١٢٣٤٥٦", "12 34 56 78", "ABCDE-FGHI", "ABCDE-FGHIJK", "'; drop table x;--",
            new string('9', 64), new string('x', 5000), "%00", "<script>"];
        foreach (var input in inputs)
        {
            // Unlock between the inputs: each wrong one counts, and this test is about the answers.
            await factory.WithScopeAsync(services => services.GetRequiredService<IdentityServer.Admin.UserAdministration>().UnlockAsync(id, "test-admin", CancellationToken.None));
            using var browser = factory.CreateOidcClient();
            using var step = await SecondStepAsync(browser, "totp-bad-input");

            using var answer = await CodeAsync(browser, step, input);

            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"'{input}' answered {(int)answer.StatusCode}.");
            Assert.NotNull(await ErrorAsync(answer));
        }
        // A NUL character gets the error page everywhere (see RequestLimitsMiddleware), before any code is checked.
        using (var browser = factory.CreateOidcClient())
        {
            using var step = await SecondStepAsync(browser, "totp-bad-input");
            using var answer = await CodeAsync(browser, step, "12\u000034");
            await OidcTestClient.AssertErrorPageAsync(answer, "invalid_request");
        }
        Assert.DoesNotContain(await EventsAsync(factory, id), static e => e.Type == SecurityEventTypes.SignInSucceeded && e.Detail != "pwd");
    }

    /// <summary>The web client's code flow for an account with the authenticator on: password, then the code, then consent.</summary>
    private static async Task<TokenResponse> CodeFlowAsync(OidcTestClient browser, string login, string code)
    {
        var pkce = Pkce.Create();
        var request = OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid profile offline_access", pkce);
        using var loginPage = await browser.NavigateAsync(OidcTestClient.AuthorizeUrl(request));
        using var secondStep = await browser.SignInAsync(loginPage, login, AdminTestHelpers.Password);
        Assert.Equal("/Account/LoginWith2fa", secondStep.RequestMessage!.RequestUri!.AbsolutePath);
        var response = await browser.FollowLocalRedirectsAsync(await CodeAsync(browser, secondStep, code));
        if (response.StatusCode == HttpStatusCode.OK && response.RequestMessage!.RequestUri!.AbsolutePath == "/connect/authorize")
        {
            response = await browser.SubmitAsync(response, button: "accept");
        }
        Assert.True(OidcTestClient.IsRedirect(response), $"Expected a redirect to the client, got {(int)response.StatusCode} at {response.RequestMessage!.RequestUri}");
        var tokens = await browser.TokenAsync(
            ("grant_type", "authorization_code"), ("code", OidcTestClient.Query(response.Headers.Location!)["code"]), ("redirect_uri", TestSeed.WebRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        return tokens;
    }

    /// <summary>Posts a code on each browser's second-step page at the same moment.</summary>
    private static async Task<List<Answer>> BurstAsync(List<OidcTestClient> browsers, List<HttpResponseMessage> steps, Func<int, string> codeOf)
    {
        var forms = new List<FormUrlEncodedContent>();
        for (var i = 0; i < browsers.Count; i++)
        {
            var token = (await OidcTestClient.ParseAsync(steps[i])).QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
            forms.Add(new FormUrlEncodedContent([new("Input.Code", codeOf(i)), new("__RequestVerificationToken", token)]));
        }
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var posts = browsers.Zip(forms).Select(async pair =>
        {
            await start.Task;
            using var response = await pair.First.Http.PostAsync(new Uri("/Account/LoginWith2fa", UriKind.Relative), pair.Second);
            return new Answer(response.StatusCode, await ErrorAsync(response));
        }).ToList();
        start.SetResult();
        return [.. await Task.WhenAll(posts)];
    }

    private sealed record Answer(HttpStatusCode Status, string? Error);
}
