using System.Net;
using IdentityServer.Audit;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Sessions;
using IdentityServer.Tests.TwoFactor;
using static IdentityServer.Tests.StepUp.StepUpSteps;
using static IdentityServer.Tests.TwoFactor.TwoFactorSteps;

namespace IdentityServer.Tests.StepUp;

/// <summary>
/// Step-up: a client with RequireMfa, or a request with acr_values, needs a session of that level.
/// A user without a second factor sets one up first (its code counts); one with an authenticator
/// enters a code only; phr needs a passkey sign-in; prompt=none gets interaction_required. The ID
/// token's acr is the level reached, its amr the session's.
/// </summary>
public sealed class StepUpTests(StepUpFactory factory) : IClassFixture<StepUpFactory>
{
    [Fact]
    public async Task RequireMfa_UserWithoutSecondFactor_IsLedToEnrolment_WhoseCodeCountsAsTheStepUp()
    {
        using var browser = factory.CreateOidcClient();
        var id = await AdminTestHelpers.CreateUserAsync(factory, "enrol-vault");
        var (request, pkce) = Vault();

        using var login = await browser.NavigateAsync(OidcTestClient.AuthorizeUrl(request));
        Assert.Equal("/Account/Login", PathOf(login));
        using var enrolment = await browser.SignInAsync(login, "enrol-vault", AdminTestHelpers.Password);

        Assert.Equal(HttpStatusCode.OK, enrolment.StatusCode);
        Assert.Equal("/Account/Authenticator", PathOf(enrolment));
        var page = await OidcTestClient.ParseAsync(enrolment);
        Assert.NotNull(page.QuerySelector("#enrolment-required"));
        var app = TestAuthenticator.FromPage(page.QuerySelector("#authenticator-key")!.TextContent);
        // Nothing was issued yet: the session has the password only.
        var session = Assert.Single(await SessionProbe.ForUserAsync(factory, "enrol-vault"));
        Assert.Equal("pwd", session.AuthenticationMethods);

        using var enabled = await browser.SubmitAsync(enrolment, new Dictionary<string, string> { ["Input.Code"] = await app.NextCodeAsync() });
        var done = await OidcTestClient.ParseAsync(enabled);
        Assert.Equal(10, RecoveryCodes(done).Count);
        Assert.Null(done.QuerySelector("#done"));
        var next = done.QuerySelector("#continue")!.GetAttribute("href")!;
        Assert.StartsWith("/connect/authorize?", next, StringComparison.Ordinal);

        // Back to the request: the confirmed code was the second factor, no other is asked for.
        using var back = await browser.NavigateAsync(next);
        var tokens = await RedeemVaultAsync(browser, ToClient(back), pkce);
        Assert.Equal("mfa", Acr(tokens["id_token"]!));
        Assert.Equal(["pwd", "otp", "mfa"], Amr(tokens["id_token"]!));
        var raised = await SessionProbe.FindAsync(factory, SessionProbe.Sid(tokens["id_token"]!));
        Assert.Equal(session.Id, raised!.Id);
        Assert.Equal("pwd otp mfa", raised.AuthenticationMethods);
        var events = await SessionProbe.EventsAsync(factory, session.Id);
        Assert.Contains(events, static e => e is { Type: SecurityEventTypes.MfaEnrolmentRequired, ClientId: StepUpFactory.VaultClientId });
        Assert.Contains(events, static e => e is { Type: SecurityEventTypes.StepUpCompleted, ClientId: StepUpFactory.VaultClientId, Detail: "pwd otp mfa" });
        Assert.True((await AccountAsync(factory, id)).TwoFactorEnabled);
    }

    [Fact]
    public async Task RequireMfa_UserWithAuthenticator_SignedInWithPasswordOnly_IsAskedForTheCodeOnly()
    {
        using var browser = factory.CreateOidcClient();
        var (app, sessionId) = await AuthenticatorUserWithPasswordSessionAsync(browser, "stepup-vault");
        var (request, pkce) = Vault();

        using var step = await browser.NavigateAsync(OidcTestClient.AuthorizeUrl(request));

        Assert.Equal(HttpStatusCode.OK, step.StatusCode);
        Assert.Equal("/Account/StepUp", PathOf(step));
        var page = await OidcTestClient.ParseAsync(step);
        Assert.NotNull(page.QuerySelector("input[name='Input.Code'][autocomplete=one-time-code]"));
        Assert.Empty(page.QuerySelectorAll("input[type=password], input[name*=User], input[name*=Login]"));
        Assert.Contains("default-src 'self'", step.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Empty(page.QuerySelectorAll("script:not([src]), [style], style"));

        using var answer = await browser.SubmitAsync(step, new Dictionary<string, string> { ["Input.Code"] = await app.NextCodeAsync() });
        using var back = await browser.FollowLocalRedirectsAsync(answer);
        var tokens = await RedeemVaultAsync(browser, ToClient(back), pkce);

        Assert.Equal("mfa", Acr(tokens["id_token"]!));
        Assert.Equal(["pwd", "otp", "mfa"], Amr(tokens["id_token"]!));
        // The same session, raised: no new sign-in.
        Assert.Equal(sessionId, SessionProbe.Sid(tokens["id_token"]!));
        Assert.Equal("pwd otp mfa", (await SessionProbe.FindAsync(factory, sessionId))!.AuthenticationMethods);
        Assert.Contains(await SessionProbe.EventsAsync(factory, sessionId),
            static e => e is { Type: SecurityEventTypes.StepUpCompleted, ClientId: StepUpFactory.VaultClientId, Detail: "pwd otp mfa" });
        // A refreshed ID token keeps the level the grant was issued at.
        var refreshed = await browser.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"]!),
            ("client_id", StepUpFactory.VaultClientId), ("client_secret", StepUpFactory.VaultSecret));
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        Assert.Equal("mfa", Acr(refreshed["id_token"]!));
    }

    [Fact]
    public async Task RequireMfa_RecoveryCodeAtStepUp_RaisesTheSessionToPwdMfa_AndASilentRequestThenGetsACode()
    {
        using var browser = factory.CreateOidcClient();
        var (_, sessionId) = await AuthenticatorUserWithPasswordSessionAsync(browser, "stepup-recovery");
        using var step = await browser.NavigateAsync(OidcTestClient.AuthorizeUrl(Vault().Parameters));

        using var answer = await browser.SubmitAsync(step, new Dictionary<string, string> { ["Input.Code"] = RecoveryCodesOf["stepup-recovery"][0] });
        ToClient(await browser.FollowLocalRedirectsAsync(answer));

        Assert.Equal("pwd mfa", (await SessionProbe.FindAsync(factory, sessionId))!.AuthenticationMethods);
        var id = await AdminTestHelpers.UserIdAsync(factory, "stepup-recovery");
        Assert.Equal(9, await RecoveryCodesLeftAsync(factory, id));
        Assert.Contains((SecurityEventTypes.RecoveryCodeUsed, "9"), await EventsAsync(factory, id));
        // The session now reaches mfa: prompt=none needs no page.
        var (silent, pkce) = Vault(prompt: "none");
        using var response = await browser.GetAuthorizeAsync(silent);
        var tokens = await RedeemVaultAsync(browser, ToClient(response), pkce);
        Assert.Equal("mfa", Acr(tokens["id_token"]!));
        Assert.Equal(["pwd", "mfa"], Amr(tokens["id_token"]!));
    }

    [Fact]
    public async Task AcrValuesMfa_NormalClient_StepsUpLikeRequireMfa()
    {
        using var browser = factory.CreateOidcClient();
        var (app, sessionId) = await AuthenticatorUserWithPasswordSessionAsync(browser, "stepup-acr");

        using var step = await browser.NavigateAsync(OidcTestClient.AuthorizeUrl(Portal(acrValues: "mfa")));
        Assert.Equal("/Account/StepUp", PathOf(step));
        using var answer = await browser.SubmitAsync(step, new Dictionary<string, string> { ["Input.Code"] = await app.NextCodeAsync() });
        var tokens = await RedeemPortalAsync(browser, ToClient(await browser.FollowLocalRedirectsAsync(answer)));

        Assert.Equal("mfa", Acr(tokens["id_token"]!));
        Assert.Equal(["pwd", "otp", "mfa"], Amr(tokens["id_token"]!));
        Assert.Equal("pwd otp mfa", (await SessionProbe.FindAsync(factory, sessionId))!.AuthenticationMethods);

        // A user with no second factor is sent to set one up, with the request to come back to.
        using var other = factory.CreateOidcClient();
        await AdminTestHelpers.CreateUserAsync(factory, "stepup-acr-none");
        Assert.True(await AdminTestHelpers.TrySignInAsync(other, "stepup-acr-none"));
        using var enrol = await other.GetAuthorizeAsync(Portal(acrValues: "mfa"));
        Assert.Equal(HttpStatusCode.Redirect, enrol.StatusCode);
        Assert.StartsWith("/Account/Authenticator?ReturnUrl=%2Fconnect%2Fauthorize%3F", enrol.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AcrValuesMfa_InAPushedRequest_StepsUp_AndThePushedRequestThenGetsItsCode()
    {
        using var browser = factory.CreateOidcClient();
        var (app, _) = await AuthenticatorUserWithPasswordSessionAsync(browser, "stepup-par");
        var form = Portal(acrValues: "mfa").Where(static p => p.Value is not null)
            .Select(static p => new KeyValuePair<string, string>(p.Key, p.Value!)).Append(new("client_secret", "portal-secret-0123456789"));
        var pushed = await browser.PostAsync("/connect/par", form);
        Assert.Equal(HttpStatusCode.Created, pushed.Status);

        using var step = await browser.NavigateAsync(OidcTestClient.AuthorizeUrl(new Dictionary<string, string?>
        {
            ["client_id"] = Infrastructure.TestSeed.ImplicitConsentClientId, ["request_uri"] = pushed["request_uri"],
        }));
        Assert.Equal("/Account/StepUp", PathOf(step));
        using var answer = await browser.SubmitAsync(step, new Dictionary<string, string> { ["Input.Code"] = await app.NextCodeAsync() });
        var tokens = await RedeemPortalAsync(browser, ToClient(await browser.FollowLocalRedirectsAsync(answer)));

        Assert.Equal("mfa", Acr(tokens["id_token"]!));
    }

    [Theory]
    [InlineData("pwd")]
    [InlineData("urn:example:gold")]
    [InlineData("urn:example:gold pwd mfa")]
    public async Task AcrValues_PwdOrUnknownFirst_IssueTheCodeWithoutStepUp(string acrValues)
    {
        using var browser = factory.CreateOidcClient();
        var name = "acr-" + Guid.NewGuid().ToString("N")[..8];
        await AdminTestHelpers.CreateUserAsync(factory, name);
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, name));

        using var response = await browser.GetAuthorizeAsync(Portal(acrValues));

        var tokens = await RedeemPortalAsync(browser, ToClient(response));
        Assert.Equal("pwd", Acr(tokens["id_token"]!));
        Assert.Equal(["pwd"], Amr(tokens["id_token"]!));
    }

    [Fact]
    public async Task AcrValues_UnknownThenMfa_TakesMfa()
    {
        using var browser = factory.CreateOidcClient();
        await AdminTestHelpers.CreateUserAsync(factory, "acr-unknown-mfa");
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "acr-unknown-mfa"));

        using var response = await browser.GetAuthorizeAsync(Portal("urn:example:gold mfa pwd"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/Account/Authenticator?", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoAcrValues_IdTokenAcrIsTheSessionsLevel()
    {
        using var browser = factory.CreateOidcClient();
        await AdminTestHelpers.CreateUserAsync(factory, "acr-session-level");
        var tokens = await RedeemPortalAsync(browser, await browser.AuthorizeAsync(Portal(), "acr-session-level", AdminTestHelpers.Password));
        Assert.Equal("pwd", Acr(tokens["id_token"]!));

        // Signed in with password and code: mfa.
        using var first = factory.CreateOidcClient();
        var (_, app, _) = await EnrolledAccountAsync(factory, first, "acr-session-mfa");
        using var second = factory.CreateOidcClient();
        using var loginPage = await second.NavigateAsync(OidcTestClient.AuthorizeUrl(Portal()));
        using var codeStep = await second.SignInAsync(loginPage, "acr-session-mfa", AdminTestHelpers.Password);
        Assert.Equal("/Account/LoginWith2fa", PathOf(codeStep));
        using var back = await second.FollowLocalRedirectsAsync(await CodeAsync(second, codeStep, await app.NextCodeAsync()));
        var mfa = await RedeemPortalAsync(second, ToClient(back));
        Assert.Equal("mfa", Acr(mfa["id_token"]!));
    }

    [Fact]
    public async Task AcrValuesPhr_PasswordOrCodeSession_IsSentToSignInAgain_AndAPasswordDoesNotSatisfyIt()
    {
        using var browser = factory.CreateOidcClient();
        await AdminTestHelpers.CreateUserAsync(factory, "phr-pwd");
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "phr-pwd"));

        using var login = await browser.NavigateAsync(OidcTestClient.AuthorizeUrl(Portal(acrValues: "phr")));
        Assert.Equal("/Account/Login", PathOf(login));
        Assert.NotNull((await OidcTestClient.ParseAsync(login)).QuerySelector("#passkey-required"));

        // The password again: back at the sign-in page, still no code.
        using var again = await browser.SignInAsync(login, "phr-pwd", AdminTestHelpers.Password);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("/Account/Login", PathOf(again));
        Assert.NotNull((await OidcTestClient.ParseAsync(again)).QuerySelector("#passkey-required"));
        Assert.Equal("pwd", Assert.Single(await SessionProbe.ForUserAsync(factory, "phr-pwd")).AuthenticationMethods);

        // A session with password and code is not phishing-resistant either; a stronger value wins over RequireMfa.
        using var first = factory.CreateOidcClient();
        var (_, app, _) = await EnrolledAccountAsync(factory, first, "phr-mfa");
        using var mfaBrowser = factory.CreateOidcClient();
        using var loginPage = await mfaBrowser.NavigateAsync(OidcTestClient.AuthorizeUrl(Portal()));
        using var codeStep = await mfaBrowser.SignInAsync(loginPage, "phr-mfa", AdminTestHelpers.Password);
        ToClient(await mfaBrowser.FollowLocalRedirectsAsync(await CodeAsync(mfaBrowser, codeStep, await app.NextCodeAsync())));
        using var phr = await mfaBrowser.GetAuthorizeAsync(Vault(acrValues: "phr").Parameters);
        Assert.Equal(HttpStatusCode.Redirect, phr.StatusCode);
        Assert.Equal("/Account/Login", new Uri(IdentityServerFactory.BaseAddress, phr.Headers.Location!).AbsolutePath);
        using var mfaLogin = await mfaBrowser.FollowLocalRedirectsAsync(phr);
        Assert.NotNull((await OidcTestClient.ParseAsync(mfaLogin)).QuerySelector("#passkey-required"));
        // An ordinary sign-in page says nothing of passkeys.
        using var plain = await mfaBrowser.NavigateAsync("/Account/Login");
        Assert.Null((await OidcTestClient.ParseAsync(plain)).QuerySelector("#passkey-required"));
    }

    [Theory]
    [InlineData(StepUpFactory.VaultClientId, null)]
    [InlineData(TestSeed.ImplicitConsentClientId, "mfa")]
    public async Task PromptNone_SessionBelowTheLevel_ReturnsInteractionRequiredToTheClient(string clientId, string? acrValues)
    {
        using var browser = factory.CreateOidcClient();
        var name = "none-" + Guid.NewGuid().ToString("N")[..8];
        await AdminTestHelpers.CreateUserAsync(factory, name);
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, name));
        var request = clientId == StepUpFactory.VaultClientId ? Vault(prompt: "none").Parameters : Portal(acrValues, prompt: "none");

        using var response = await browser.GetAuthorizeAsync(request);

        var redirect = ToClient(response);
        Assert.StartsWith(clientId == StepUpFactory.VaultClientId ? StepUpFactory.VaultRedirectUri : TestSeed.PortalRedirectUri, redirect.AbsoluteUri, StringComparison.Ordinal);
        var query = OidcTestClient.Query(redirect);
        Assert.Equal(("interaction_required", "xyz", IdentityServerFactory.BaseAddress.AbsoluteUri), (query["error"], query["state"], query["iss"]));
        Assert.False(query.ContainsKey("code"));
    }

    [Fact]
    public async Task Discovery_ListsAcrValuesAndTheAcrAndAmrClaims()
    {
        using var browser = factory.CreateOidcClient();
        using var response = await browser.Http.GetAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative));
        var json = await AdminTestHelpers.JsonAsync(response);

        Assert.Equal(["pwd", "mfa", "phr"], json.GetProperty("acr_values_supported").EnumerateArray().Select(static v => v.GetString()));
        var claims = json.GetProperty("claims_supported").EnumerateArray().Select(static v => v.GetString()).ToList();
        Assert.Contains("acr", claims);
        Assert.Contains("amr", claims);
    }

    [Fact]
    public async Task StepUpLink_AnotherBrowsersCookie_IsRefusedAndChangesNothing()
    {
        using var browser = factory.CreateOidcClient();
        var (_, sessionId) = await AuthenticatorUserWithPasswordSessionAsync(browser, "link-owner");
        using var step = await browser.NavigateAsync(OidcTestClient.AuthorizeUrl(Vault().Parameters));
        var link = step.RequestMessage!.RequestUri!.PathAndQuery;
        Assert.StartsWith("/Account/StepUp?", link, StringComparison.Ordinal);

        using var other = factory.CreateOidcClient();
        var (otherApp, otherSession) = await AuthenticatorUserWithPasswordSessionAsync(other, "link-other");
        using var refused = await other.NavigateAsync(link);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var page = await OidcTestClient.ParseAsync(refused);
        Assert.NotNull(page.QuerySelector("#step-up-refused"));
        Assert.Empty(page.QuerySelectorAll("form input[name='Input.Code']"));
        // Posting a right code of the other account to that link does nothing either.
        var antiforgery = await AdminTestHelpers.AntiforgeryTokenAsync(other, "/Account/ChangePassword");
        var query = OidcTestClient.Query(new Uri(IdentityServerFactory.BaseAddress, link));
        using var posted = await other.Http.PostAsync(new Uri(link, UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.Code"] = await otherApp.NextCodeAsync(), ["ReturnUrl"] = query["ReturnUrl"], ["Ticket"] = query["Ticket"], ["__RequestVerificationToken"] = antiforgery,
        }));
        Assert.Equal(HttpStatusCode.BadRequest, posted.StatusCode);
        Assert.Equal("pwd", (await SessionProbe.FindAsync(factory, otherSession))!.AuthenticationMethods);
        Assert.Equal("pwd", (await SessionProbe.FindAsync(factory, sessionId))!.AuthenticationMethods);
    }

    [Fact]
    public async Task StepUpLink_ChangedReturnUrlOrNewSignIn_IsRefused_AndReplayAfterCompletionSkipsNothing()
    {
        using var browser = factory.CreateOidcClient();
        var (app, _) = await AuthenticatorUserWithPasswordSessionAsync(browser, "link-replay");
        using var step = await browser.NavigateAsync(OidcTestClient.AuthorizeUrl(Vault().Parameters));
        var link = step.RequestMessage!.RequestUri!.PathAndQuery;

        // The ticket is for that one request: another return URL (here another client) is refused.
        var query = OidcTestClient.Query(new Uri(IdentityServerFactory.BaseAddress, link));
        var changed = "/Account/StepUp?ReturnUrl=" + Uri.EscapeDataString(query["ReturnUrl"].Replace("client_id=vault", "client_id=portal", StringComparison.Ordinal))
            + "&Ticket=" + Uri.EscapeDataString(query["Ticket"]);
        using var refused = await browser.NavigateAsync(changed);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);

        // Completed: the link leads back to the request, which asks the session again, and nothing is recorded twice.
        using var answer = await browser.SubmitAsync(step, new Dictionary<string, string> { ["Input.Code"] = await app.NextCodeAsync() });
        ToClient(await browser.FollowLocalRedirectsAsync(answer));
        using var replay = await browser.Http.GetAsync(new Uri(link, UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, replay.StatusCode);
        Assert.StartsWith("/connect/authorize?", replay.Headers.Location!.OriginalString, StringComparison.Ordinal);

        // Signed out and in again with the password: a new session, for which the old link is worth nothing.
        using var logout = await browser.NavigateAsync("/Account/Logout");
        using var signedOut = await browser.SubmitAsync(logout);
        using var secondStep = await SecondStepAsync(browser, "link-replay");
        using var signedIn = await CodeAsync(browser, secondStep, await app.NextCodeAsync());
        using var stale = await browser.NavigateAsync(link);
        Assert.Equal(HttpStatusCode.BadRequest, stale.StatusCode);
        Assert.Single(await EventsOfTypeAsync("link-replay", SecurityEventTypes.StepUpCompleted));
    }

    [Fact]
    public async Task ReturnUrl_ToAnotherSite_IsNeverFollowed()
    {
        using var browser = factory.CreateOidcClient();
        var (_, sessionId) = await AuthenticatorUserWithPasswordSessionAsync(browser, "stepup-elsewhere");
        using var step = await browser.NavigateAsync(OidcTestClient.AuthorizeUrl(Vault().Parameters));
        var ticket = OidcTestClient.Query(step.RequestMessage!.RequestUri!)["Ticket"];

        foreach (var target in new[] { "https://evil.example/", "//evil.example/", "/\\evil.example/" })
        {
            using var refused = await browser.Http.GetAsync(new Uri(
                "/Account/StepUp?ReturnUrl=" + Uri.EscapeDataString(target) + "&Ticket=" + Uri.EscapeDataString(ticket), UriKind.Relative));
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Null(refused.Headers.Location);
        }
        Assert.Equal("pwd", (await SessionProbe.FindAsync(factory, sessionId))!.AuthenticationMethods);

        // The set-up page ignores such a return URL: no word of an application, and Done leads to Security.
        using var other = factory.CreateOidcClient();
        await AdminTestHelpers.CreateUserAsync(factory, "enrol-elsewhere");
        Assert.True(await AdminTestHelpers.TrySignInAsync(other, "enrol-elsewhere"));
        using var setUp = await other.NavigateAsync("/Account/Authenticator?ReturnUrl=" + Uri.EscapeDataString("https://evil.example/"));
        var page = await OidcTestClient.ParseAsync(setUp);
        Assert.Null(page.QuerySelector("#enrolment-required"));
        var app = TestAuthenticator.FromPage(page.QuerySelector("#authenticator-key")!.TextContent);
        using var done = await other.SubmitAsync(setUp, new Dictionary<string, string> { ["Input.Code"] = await app.NextCodeAsync() });
        var result = await OidcTestClient.ParseAsync(done);
        RecoveryCodes(result);
        Assert.Null(result.QuerySelector("#continue"));
        Assert.Equal("/Account/Security", result.QuerySelector("#done")!.GetAttribute("href"));
        // Not for an application: the session keeps the amr of its sign-in.
        Assert.Equal("pwd", Assert.Single(await SessionProbe.ForUserAsync(factory, "enrol-elsewhere")).AuthenticationMethods);
    }

    [Fact]
    public async Task StepUp_WrongOrReplayedCode_CountsTowardsTheLockout_AndDoesNotRaiseTheSession()
    {
        using var browser = factory.CreateOidcClient();
        var (app, sessionId) = await AuthenticatorUserWithPasswordSessionAsync(browser, "stepup-wrong");
        using var step = await browser.NavigateAsync(OidcTestClient.AuthorizeUrl(Vault().Parameters));

        using var wrong = await browser.SubmitAsync(step, new Dictionary<string, string> { ["Input.Code"] = app.WrongCode() });
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        Assert.Equal(WrongCodeMessage, await ErrorAsync(wrong));
        // The code that confirmed the set-up was used: it cannot step up.
        using var replayed = await browser.SubmitAsync(wrong, new Dictionary<string, string> { ["Input.Code"] = app.LastCode });
        Assert.Equal(WrongCodeMessage, await ErrorAsync(replayed));

        var id = await AdminTestHelpers.UserIdAsync(factory, "stepup-wrong");
        Assert.Equal(2, (await AccountAsync(factory, id)).AccessFailedCount);
        var failures = (await EventsAsync(factory, id)).Where(static e => e.Type == SecurityEventTypes.SecondFactorFailed).Select(static e => e.Detail);
        Assert.Equal(["wrong_code", "replayed_code"], failures);
        Assert.Equal("pwd", (await SessionProbe.FindAsync(factory, sessionId))!.AuthenticationMethods);
    }

    [Fact]
    public async Task MaxAgeAndMfa_BothHold_ASignInWithPasswordAndCode()
    {
        using var first = factory.CreateOidcClient();
        var (_, app, _) = await EnrolledAccountAsync(factory, first, "maxage-mfa");
        using var browser = factory.CreateOidcClient();
        using var loginPage = await browser.NavigateAsync(OidcTestClient.AuthorizeUrl(Portal()));
        using var codeStep = await browser.SignInAsync(loginPage, "maxage-mfa", AdminTestHelpers.Password);
        ToClient(await browser.FollowLocalRedirectsAsync(await CodeAsync(browser, codeStep, await app.NextCodeAsync())));

        var (request, pkce) = Vault();
        request["max_age"] = "0";
        using var again = await browser.NavigateAsync(OidcTestClient.AuthorizeUrl(request));
        Assert.Equal("/Account/Login", PathOf(again));
        using var code = await browser.SignInAsync(again, "maxage-mfa", AdminTestHelpers.Password);
        Assert.Equal("/Account/LoginWith2fa", PathOf(code));
        using var back = await browser.FollowLocalRedirectsAsync(await CodeAsync(browser, code, await app.NextCodeAsync()));
        var tokens = await RedeemVaultAsync(browser, ToClient(back), pkce);
        Assert.Equal("mfa", Acr(tokens["id_token"]!));
    }

    [Fact]
    public async Task RequireMfa_DeviceFlow_VerificationAsksForTheCodeBeforeTheGrant()
    {
        using var device = factory.CreateOidcClient();
        var start = await device.PostAsync("/connect/device", [new("client_id", StepUpFactory.VaultDeviceClientId), new("scope", "openid")]);
        Assert.Equal(HttpStatusCode.OK, start.Status);
        using var browser = factory.CreateOidcClient();
        var (app, sessionId) = await AuthenticatorUserWithPasswordSessionAsync(browser, "stepup-device");

        using var step = await browser.NavigateAsync(start["verification_uri_complete"]!);
        Assert.Equal("/Account/StepUp", PathOf(step));
        using var answer = await browser.SubmitAsync(step, new Dictionary<string, string> { ["Input.Code"] = await app.NextCodeAsync() });
        using var consent = await browser.FollowLocalRedirectsAsync(answer);
        Assert.Equal("/connect/verify", PathOf(consent));
        using var approved = await browser.SubmitAsync(consent, button: "accept");
        Assert.Equal("/connect/verify?result=approved", approved.Headers.Location!.OriginalString);

        var tokens = await device.TokenAsync(("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", start["device_code"]!),
            ("client_id", StepUpFactory.VaultDeviceClientId));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        Assert.Equal("mfa", Acr(tokens["id_token"]!));
        Assert.Equal("pwd otp mfa", (await SessionProbe.FindAsync(factory, sessionId))!.AuthenticationMethods);
    }

    /// <summary>
    /// An account with the authenticator on whose browser session was signed in with the password
    /// only: signed in, then the authenticator set up from the Security page (which keeps the
    /// session's amr), then a code through another client. The app and the session id.
    /// </summary>
    private async Task<(TestAuthenticator App, string SessionId)> AuthenticatorUserWithPasswordSessionAsync(OidcTestClient browser, string name)
    {
        await AdminTestHelpers.CreateUserAsync(factory, name);
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, name));
        var (app, codes) = await EnrolAsync(browser);
        RecoveryCodesOf[name] = codes;
        var tokens = await RedeemPortalAsync(browser, await browser.AuthorizeAsync(Portal()));
        Assert.Equal("pwd", Acr(tokens["id_token"]!));
        Assert.Equal(["pwd"], Amr(tokens["id_token"]!));
        return (app, SessionProbe.Sid(tokens["id_token"]!));
    }

    /// <summary>The recovery codes each account of <see cref="AuthenticatorUserWithPasswordSessionAsync"/> got.</summary>
    private Dictionary<string, IReadOnlyList<string>> RecoveryCodesOf { get; } = [];

    private async Task<List<(string Type, string? Detail)>> EventsOfTypeAsync(string name, string type) =>
        [.. (await EventsAsync(factory, await AdminTestHelpers.UserIdAsync(factory, name))).Where(e => e.Type == type)];
}
