using System.Net;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Sessions;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Passkeys.PasskeySteps;
using static IdentityServer.Tests.TwoFactor.TwoFactorSteps;

namespace IdentityServer.Tests.Passkeys;

/// <summary>
/// "Sign in with a passkey": the options name our relying party and require user verification; a
/// registered passkey's signature starts a full session with amr hwk mfa and no second step; an
/// unknown, forged, replayed or foreign-origin answer, or a locked account, is refused with one
/// message and recorded, never a server error.
/// </summary>
public sealed class PasskeySignInTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task RequestOptions_WithTheAntiforgeryToken_AnswerJsonForTheIssuersHostWithUserVerificationRequired()
    {
        using var browser = factory.CreateOidcClient();
        using var page = await browser.NavigateAsync("/Account/Login");

        using var response = await OptionsResponseAsync(browser, page, "/Account/Passkeys/RequestOptions");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
        var options = await AdminTestHelpers.JsonAsync(response);
        Assert.Equal(TestPasskey.RpId, options.GetProperty("rpId").GetString());
        Assert.Equal("required", options.GetProperty("userVerification").GetString());
        Assert.True(options.GetProperty("challenge").GetString()!.Length >= 43);
        // No account named: the passkey chosen names it.
        Assert.Equal(0, options.GetProperty("allowCredentials").GetArrayLength());
        // The challenge stays with this browser, in Identity's data-protected two-factor cookie.
        Assert.Contains(response.Headers.GetValues("Set-Cookie"), static c => c.StartsWith("idp.2fa=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RequestOptions_WithoutTheAntiforgeryToken_Is400()
    {
        using var browser = factory.CreateOidcClient();

        using var response = await browser.Http.PostAsync(new Uri("/Account/Passkeys/RequestOptions", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task SignIn_RegisteredPasskey_StartsASessionWithAmrHwkMfa_WithoutTheSecondStep()
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "passkey-amr");
        // An account with the authenticator on: a passkey is already two factors, so no code is asked.
        await factory.WithScopeAsync(async services =>
        {
            var users = services.GetRequiredService<UserManager<ApplicationUser>>();
            return await users.SetTwoFactorEnabledAsync((await users.FindByIdAsync(id))!, true);
        });
        using var passkey = new TestPasskey();
        await StoreAsync(factory, id, passkey);
        using var browser = factory.CreateOidcClient();
        var pkce = Pkce.Create();
        var authorize = OidcTestClient.AuthorizeUrl(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid profile offline_access", pkce));
        using var login = await browser.NavigateAsync(authorize);
        var options = await OptionsAsync(browser, login, "/Account/Passkeys/RequestOptions");

        using var signedIn = await PostCredentialAsync(browser, login, passkey.Assertion(options, id));

        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.StartsWith("/connect/authorize?", signedIn.Headers.Location!.OriginalString, StringComparison.Ordinal);
        var response = await browser.FollowLocalRedirectsAsync(signedIn);
        if (response.StatusCode == HttpStatusCode.OK)
        {
            response = await browser.SubmitAsync(response, button: "accept");
        }
        var code = OidcTestClient.Query(response.Headers.Location!)["code"];
        var tokens = await browser.TokenAsync(
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", TestSeed.WebRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        var idToken = Jwt.Payload(tokens["id_token"]!);
        Assert.Equal(id, idToken.GetProperty("sub").GetString());
        Assert.Equal(["hwk", "mfa"], idToken.GetProperty("amr").EnumerateArray().Select(static v => v.GetString()));
        var session = await SessionProbe.FindAsync(factory, SessionProbe.Sid(tokens["id_token"]!));
        Assert.Equal("hwk mfa", session!.AuthenticationMethods);
        Assert.Contains((SecurityEventTypes.SignInSucceeded, "hwk mfa"), await EventsAsync(factory, id));
        // The new signature count is stored: an older one is refused from now on.
        Assert.Equal(1u, (await PasskeysAsync(factory, id)).Single().SignCount);
    }

    [Fact]
    public async Task SignIn_SameAnswerTwice_TheSecondIsRefused()
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "passkey-replay");
        using var passkey = new TestPasskey();
        await StoreAsync(factory, id, passkey);
        using var browser = factory.CreateOidcClient();
        using var page = await browser.NavigateAsync("/Account/Login");
        var answer = passkey.Assertion(await OptionsAsync(browser, page, "/Account/Passkeys/RequestOptions"), id);
        using var first = await PostCredentialAsync(browser, page, answer);
        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);

        // A replay from another browser (no challenge there), and with a new challenge.
        using var other = factory.CreateOidcClient();
        using var otherPage = await other.NavigateAsync("/Account/Login");
        using var noChallenge = await PostCredentialAsync(other, otherPage, answer);
        await OptionsAsync(other, otherPage, "/Account/Passkeys/RequestOptions");
        using var wrongChallenge = await PostCredentialAsync(other, otherPage, answer);

        Assert.Equal(FailedMessage, await ErrorAsync(noChallenge));
        Assert.Equal(FailedMessage, await ErrorAsync(wrongChallenge));
        var failures = await FailuresAsync();
        Assert.Contains("passkey_no_challenge", failures);
        Assert.Contains("passkey_invalid", failures);
        Assert.Single(await SessionProbe.ForUserAsync(factory, "passkey-replay"));
    }

    [Fact]
    public async Task SignIn_PasskeyNotRegistered_IsRefusedWithTheMessageAndRecorded()
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "passkey-unknown");
        using var passkey = new TestPasskey();
        using var browser = factory.CreateOidcClient();

        using var refused = await SignInAsync(browser, passkey, id);

        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Equal(FailedMessage, await ErrorAsync(refused));
        Assert.Empty(await SessionProbe.ForUserAsync(factory, "passkey-unknown"));
        Assert.Contains("passkey_invalid", await FailuresAsync());
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("http://localhost")]
    public async Task SignIn_FromAnotherOrigin_IsRefused(string origin)
    {
        var name = "passkey-origin-" + (origin.Length % 97);
        var id = await AdminTestHelpers.CreateUserAsync(factory, name);
        using var passkey = new TestPasskey();
        await StoreAsync(factory, id, passkey);
        using var browser = factory.CreateOidcClient();

        using var refused = await SignInAsync(browser, passkey, id, origin: origin);

        Assert.Equal(FailedMessage, await ErrorAsync(refused));
        Assert.Empty(await SessionProbe.ForUserAsync(factory, name));
    }

    [Fact]
    public async Task SignIn_WithoutUserVerification_IsRefused()
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "passkey-no-uv");
        using var passkey = new TestPasskey();
        await StoreAsync(factory, id, passkey);
        using var browser = factory.CreateOidcClient();
        using var page = await browser.NavigateAsync("/Account/Login");
        var options = await OptionsAsync(browser, page, "/Account/Passkeys/RequestOptions");

        using var refused = await PostCredentialAsync(browser, page, passkey.Assertion(options, id, userVerified: false));

        Assert.Equal(FailedMessage, await ErrorAsync(refused));
        Assert.Empty(await SessionProbe.ForUserAsync(factory, "passkey-no-uv"));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"id\":\"AAAA\",\"type\":\"public-key\",\"response\":{}}")]
    [InlineData("{\"id\":1,\"rawId\":[],\"type\":null,\"response\":\"x\"}")]
    [InlineData(" ")]
    public async Task SignIn_GarbageAnswer_IsRefusedWithTheMessage_NeverAServerError(string credential)
    {
        using var browser = factory.CreateOidcClient();
        using var page = await browser.NavigateAsync("/Account/Login");
        await OptionsAsync(browser, page, "/Account/Passkeys/RequestOptions");

        using var refused = await PostCredentialAsync(browser, page, credential);

        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Equal(FailedMessage, await ErrorAsync(refused));
    }

    [Fact]
    public async Task SignIn_OverlongAnswer_IsRefusedUnread()
    {
        using var browser = factory.CreateOidcClient();
        using var page = await browser.NavigateAsync("/Account/Login");
        await OptionsAsync(browser, page, "/Account/Passkeys/RequestOptions");

        using var refused = await PostCredentialAsync(browser, page, new string('a', 40_000));

        Assert.Equal(FailedMessage, await ErrorAsync(refused));
        Assert.Contains("passkey_malformed", await FailuresAsync());
    }

    [Fact]
    public async Task SignIn_AccountLockedAfterWrongPasswords_StillSignsInWithThePasskey()
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "passkey-guessed-at");
        using var passkey = new TestPasskey();
        await StoreAsync(factory, id, passkey);
        // Someone who knows the user name types wrong passwords until the account locks.
        for (var i = 0; i < 5; i++)
        {
            using var guesser = factory.CreateOidcClient();
            Assert.False(await AdminTestHelpers.TrySignInAsync(guesser, "passkey-guessed-at", "Wrong-Passw0rd!"));
        }
        Assert.NotNull((await TwoFactor.TwoFactorSteps.AccountAsync(factory, id)).LockoutEnd);
        using var browser = factory.CreateOidcClient();

        using var signedIn = await SignInAsync(browser, passkey, id);

        Assert.True(OidcTestClient.IsRedirect(signedIn));
        Assert.Equal("hwk mfa", Assert.Single(await SessionProbe.ForUserAsync(factory, "passkey-guessed-at")).AuthenticationMethods);
    }

    [Fact]
    public async Task SignIn_AccountLockedByAnAdministrator_IsRefusedAsLocked()
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "passkey-locked");
        using var passkey = new TestPasskey();
        await StoreAsync(factory, id, passkey);
        await factory.WithScopeAsync(async services =>
        {
            var users = services.GetRequiredService<UserManager<ApplicationUser>>();
            return await users.SetLockoutEndDateAsync((await users.FindByIdAsync(id))!, DateTimeOffset.MaxValue);
        });
        using var browser = factory.CreateOidcClient();

        using var refused = await SignInAsync(browser, passkey, id);

        Assert.Equal(LockedMessage, await ErrorAsync(refused));
        Assert.Empty(await SessionProbe.ForUserAsync(factory, "passkey-locked"));
        Assert.Equal((SecurityEventTypes.LockedOut, "passkey"), (await EventsAsync(factory, id))[^1]);
    }

    [Fact]
    public async Task SignIn_PostWithoutTheAntiforgeryToken_Is400()
    {
        using var browser = factory.CreateOidcClient();

        using var response = await browser.Http.PostAsync(new Uri("/Account/Login?handler=Passkey", UriKind.Relative),
            new FormUrlEncodedContent([new("PasskeyCredential", "{}")]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task LoginPage_HasThePasskeyForm_HiddenUntilTheScriptShowsIt()
    {
        using var browser = factory.CreateOidcClient();
        using var page = await browser.NavigateAsync("/Account/Login?ReturnUrl=%2FAccount%2FSecurity");

        var document = await OidcTestClient.ParseAsync(page);
        var form = document.QuerySelector("#passkey-form")!;
        Assert.True(form.HasAttribute("hidden"));
        Assert.Equal("/Account/Passkeys/RequestOptions", form.GetAttribute("data-passkey-options"));
        Assert.Equal("/Account/Security", form.QuerySelector("input[name=ReturnUrl]")!.GetAttribute("value"));
        Assert.NotNull(document.QuerySelector("script[src^='/js/passkeys.js']"));
    }

    /// <summary>The details of every failed sign-in recorded so far.</summary>
    private Task<List<string?>> FailuresAsync() => factory.WithScopeAsync(async services =>
        await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(
            services.GetRequiredService<ApplicationDbContext>().SecurityEvents
                .Where(static e => e.Type == SecurityEventTypes.SignInFailed).Select(static e => e.Detail)));
}
