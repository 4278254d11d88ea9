using System.Net;
using IdentityServer.Audit;
using IdentityServer.Sessions;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Sessions;
using IdentityServer.Tests.TwoFactor;
using static IdentityServer.Tests.Passkeys.PasskeySteps;
using static IdentityServer.Tests.TwoFactor.TwoFactorSteps;

namespace IdentityServer.Tests.Passkeys;

/// <summary>
/// The Passkeys section of the Security page: adding a passkey (the browser's answer to creation
/// options for this account) with a sign-in of the last few minutes, renaming and removing one of
/// the account's own passkeys; each recorded, adding and removing ending the other sessions; a
/// removed passkey no longer signs in.
/// </summary>
public sealed class PasskeyManagementTests(TwoFactorClockFactory factory) : IClassFixture<TwoFactorClockFactory>
{
    private static readonly TimeSpan PastTheWindow = TimeSpan.FromMinutes(6);

    [Fact]
    public async Task Add_RightAfterSigningIn_StoresThePasskey_EndsTheOtherSessions_AndItSignsIn()
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "passkey-add");
        using var phone = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(phone, "passkey-add"));
        using var browser = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "passkey-add"));
        var stampBefore = (await AccountAsync(factory, id)).SecurityStamp;
        using var page = await browser.NavigateAsync("/Account/Security");
        var document = await OidcTestClient.ParseAsync(page);
        Assert.Equal("You have no passkeys.", document.QuerySelector("#passkeys-none")!.TextContent);
        Assert.True(document.QuerySelector("#add-passkey-form")!.HasAttribute("hidden"));

        var options = await OptionsAsync(browser, page, "/Account/Passkeys/CreationOptions");
        Assert.Equal(TestPasskey.RpId, options.GetProperty("rp").GetProperty("id").GetString());
        Assert.Equal("passkey-add", options.GetProperty("user").GetProperty("name").GetString());
        var selection = options.GetProperty("authenticatorSelection");
        Assert.Equal("required", selection.GetProperty("residentKey").GetString());
        Assert.Equal("required", selection.GetProperty("userVerification").GetString());
        using var passkey = new TestPasskey();
        using var added = await browser.SubmitFormAsync(page, "#add-passkey-form",
            new Dictionary<string, string> { ["Credential"] = passkey.Attestation(options), ["Name"] = "  Work laptop " });

        Assert.Equal(HttpStatusCode.Redirect, added.StatusCode);
        Assert.Equal("/Account/Security?passkey=added#passkeys", added.Headers.Location!.OriginalString);
        var stored = Assert.Single(await PasskeysAsync(factory, id));
        // The other sessions ended with their tokens; this one, and its apps' refresh tokens, go on (same security stamp).
        Assert.Equal(stampBefore, (await AccountAsync(factory, id)).SecurityStamp);
        Assert.Equal(passkey.CredentialId, stored.CredentialId);
        Assert.Equal("Work laptop", stored.Name);
        Assert.Equal((SecurityEventTypes.PasskeyAdded, null), (await EventsAsync(factory, id)).Last(static e => e.Type != SecurityEventTypes.SessionEnded));
        var sessions = await SessionProbe.ForUserAsync(factory, "passkey-add");
        Assert.Single(sessions, static s => s.EndReason == SessionEndReasons.PasskeysChanged);
        Assert.Single(sessions, static s => s.EndedAt is null);
        using var shown = await browser.FollowLocalRedirectsAsync(added);
        var list = await OidcTestClient.ParseAsync(shown);
        Assert.Equal("Passkey added. Your other sessions were signed out.", list.QuerySelector("#passkey-message")!.TextContent);
        Assert.Equal(["Work laptop"], list.QuerySelectorAll("#passkey-list .passkey-name").Select(static e => e.TextContent));

        using var later = factory.CreateOidcClient();
        using var signedIn = await SignInAsync(later, passkey, id);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"id\":\"AAAA\",\"rawId\":\"AAAA\",\"type\":\"public-key\",\"response\":{\"clientDataJSON\":\"e30\",\"attestationObject\":\"oA\"}}")]
    public async Task Add_GarbageAnswer_StoresNothing_AndSaysSo(string credential)
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "passkey-add-garbage-" + credential.Length);
        using var browser = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "passkey-add-garbage-" + credential.Length));
        using var page = await browser.NavigateAsync("/Account/Security");
        await OptionsAsync(browser, page, "/Account/Passkeys/CreationOptions");

        using var refused = await browser.SubmitFormAsync(page, "#add-passkey-form", new Dictionary<string, string> { ["Credential"] = credential });

        Assert.Equal("/Account/Security?passkey=failed#passkeys", refused.Headers.Location!.OriginalString);
        Assert.Empty(await PasskeysAsync(factory, id));
        using var shown = await browser.FollowLocalRedirectsAsync(refused);
        Assert.StartsWith("The passkey was not saved.", await ErrorAsync(shown), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Add_AnswerFromAnotherOrigin_StoresNothing()
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "passkey-add-origin");
        using var browser = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "passkey-add-origin"));
        using var page = await browser.NavigateAsync("/Account/Security");
        using var passkey = new TestPasskey();
        var options = await OptionsAsync(browser, page, "/Account/Passkeys/CreationOptions");

        using var refused = await browser.SubmitFormAsync(page, "#add-passkey-form",
            new Dictionary<string, string> { ["Credential"] = passkey.Attestation(options, origin: "https://evil.example") });

        Assert.Equal("/Account/Security?passkey=failed#passkeys", refused.Headers.Location!.OriginalString);
        Assert.Empty(await PasskeysAsync(factory, id));
    }

    [Fact]
    public async Task CreationOptions_NotSignedIn_Is401_AndWithAnOldSignIn_Is403()
    {
        using var anonymous = factory.CreateOidcClient();
        using var loginPage = await anonymous.NavigateAsync("/Account/Login");
        using var refused = await OptionsResponseAsync(anonymous, loginPage, "/Account/Passkeys/CreationOptions");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        await AdminTestHelpers.CreateUserAsync(factory, "passkey-options-stale");
        using var browser = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "passkey-options-stale"));
        using var freshPage = await browser.NavigateAsync("/Account/Security");
        factory.Clock.Advance(PastTheWindow);
        using var page = await browser.NavigateAsync("/Account/Security");
        var document = await OidcTestClient.ParseAsync(page);
        Assert.Null(document.QuerySelector("#add-passkey-form"));
        Assert.Equal("/Account/Login?ReturnUrl=%2FAccount%2FSecurity", document.QuerySelector("#passkeys-sign-in")!.GetAttribute("href"));

        // The script of a page left open since the sign-in.
        using var stale = await OptionsResponseAsync(browser, freshPage, "/Account/Passkeys/CreationOptions");
        Assert.Equal(HttpStatusCode.Forbidden, stale.StatusCode);
    }

    [Fact]
    public async Task Rename_OwnPasskey_RenamesItAndRecordsIt()
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "passkey-rename");
        using var passkey = new TestPasskey();
        await StoreAsync(factory, id, passkey, "Old name");
        using var browser = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "passkey-rename"));
        using var page = await browser.NavigateAsync("/Account/Security");

        using var renamed = await browser.SubmitFormAsync(page, ".passkey-rename", new Dictionary<string, string> { ["Name"] = "Phone" });

        Assert.Equal("/Account/Security?passkey=renamed#passkeys", renamed.Headers.Location!.OriginalString);
        Assert.Equal("Phone", Assert.Single(await PasskeysAsync(factory, id)).Name);
        Assert.Equal((SecurityEventTypes.PasskeyRenamed, null), (await EventsAsync(factory, id))[^1]);
        Assert.Single(await SessionProbe.ForUserAsync(factory, "passkey-rename"), static s => s.EndedAt is null);
    }

    [Fact]
    public async Task Remove_OwnPasskey_RemovesIt_EndsTheOtherSessions_AndItNoLongerSignsIn()
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "passkey-remove");
        using var passkey = new TestPasskey();
        await StoreAsync(factory, id, passkey);
        // A session started with the passkey, say on a phone now lost.
        using var phone = factory.CreateOidcClient();
        using (var onPhone = await SignInAsync(phone, passkey, id))
        {
            Assert.Equal(HttpStatusCode.Redirect, onPhone.StatusCode);
        }
        using var browser = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "passkey-remove"));
        var stampBefore = (await AccountAsync(factory, id)).SecurityStamp;
        using var page = await browser.NavigateAsync("/Account/Security");
        Assert.Equal(passkey.Id, (await OidcTestClient.ParseAsync(page)).QuerySelector(".passkey-remove input[name=Id]")!.GetAttribute("value"));

        using var removed = await browser.SubmitFormAsync(page, ".passkey-remove");

        Assert.Equal("/Account/Security?passkey=removed#passkeys", removed.Headers.Location!.OriginalString);
        Assert.Empty(await PasskeysAsync(factory, id));
        Assert.Equal(stampBefore, (await AccountAsync(factory, id)).SecurityStamp);
        Assert.Equal((SecurityEventTypes.PasskeyRemoved, null), (await EventsAsync(factory, id)).Last(static e => e.Type != SecurityEventTypes.SessionEnded));
        var sessions = await SessionProbe.ForUserAsync(factory, "passkey-remove");
        Assert.Single(sessions, static s => s.EndReason == SessionEndReasons.PasskeysChanged && s.AuthenticationMethods == "hwk mfa");
        Assert.Single(sessions, static s => s.EndedAt is null);
        using var later = factory.CreateOidcClient();
        using var refused = await SignInAsync(later, passkey, id);
        Assert.Equal(FailedMessage, await ErrorAsync(refused));
    }

    [Fact]
    public async Task Remove_AnotherAccountsPasskey_IsNotFound_AndNothingChanges()
    {
        var owner = await AdminTestHelpers.CreateUserAsync(factory, "passkey-owner");
        using var passkey = new TestPasskey();
        await StoreAsync(factory, owner, passkey);
        await AdminTestHelpers.CreateUserAsync(factory, "passkey-other");
        using var browser = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "passkey-other"));
        var token = await AdminTestHelpers.AntiforgeryTokenAsync(browser, "/Account/Security");

        foreach (var handler in new[] { "Remove", "Rename" })
        {
            using var response = await browser.Http.PostAsync(new Uri("/Account/Passkeys?handler=" + handler, UriKind.Relative),
                new FormUrlEncodedContent([new("__RequestVerificationToken", token), new("Id", passkey.Id), new("Name", "Mine now")]));
            Assert.Equal("/Account/Security?passkey=not-found#passkeys", response.Headers.Location!.OriginalString);
        }

        var stored = Assert.Single(await PasskeysAsync(factory, owner));
        Assert.Equal("Test key", stored.Name);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64url!")]
    [InlineData("AAAA")]
    public async Task Remove_BadId_IsNotFound(string passkeyId)
    {
        await AdminTestHelpers.CreateUserAsync(factory, "passkey-bad-id-" + passkeyId.Length);
        using var browser = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "passkey-bad-id-" + passkeyId.Length));
        var token = await AdminTestHelpers.AntiforgeryTokenAsync(browser, "/Account/Security");

        using var response = await browser.Http.PostAsync(new Uri("/Account/Passkeys?handler=Remove", UriKind.Relative),
            new FormUrlEncodedContent([new("__RequestVerificationToken", token), new("Id", passkeyId)]));

        Assert.Equal("/Account/Security?passkey=not-found#passkeys", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task RemoveAndRename_SignInOlderThanTheWindow_GoThroughTheSignInPage_AndNothingChanges()
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "passkey-stale");
        using var passkey = new TestPasskey();
        await StoreAsync(factory, id, passkey);
        using var browser = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "passkey-stale"));
        var token = await AdminTestHelpers.AntiforgeryTokenAsync(browser, "/Account/Security");
        factory.Clock.Advance(PastTheWindow);
        using var page = await browser.NavigateAsync("/Account/Security");
        var document = await OidcTestClient.ParseAsync(page);
        Assert.Equal(["Test key"], document.QuerySelectorAll("#passkey-list .passkey-name").Select(static e => e.TextContent));
        Assert.Null(document.QuerySelector(".passkey-remove"));
        Assert.Null(document.QuerySelector(".passkey-rename"));

        foreach (var handler in new[] { "Remove", "Rename", "Add" })
        {
            using var response = await browser.Http.PostAsync(new Uri("/Account/Passkeys?handler=" + handler, UriKind.Relative),
                new FormUrlEncodedContent([new("__RequestVerificationToken", token), new("Id", passkey.Id), new("Name", "Renamed")]));
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Equal("/Account/Login?ReturnUrl=%2FAccount%2FSecurity", response.Headers.Location!.OriginalString);
        }
        Assert.Equal("Test key", Assert.Single(await PasskeysAsync(factory, id)).Name);

        // Signing in again (here with the passkey itself) makes the sign-in fresh.
        using var again = await SignInAsync(browser, passkey, id, returnUrl: "/Account/Security");
        Assert.Equal("/Account/Security", again.Headers.Location!.OriginalString);
        using var fresh = await browser.NavigateAsync("/Account/Security");
        using var removed = await browser.SubmitFormAsync(fresh, ".passkey-remove");
        Assert.Equal("/Account/Security?passkey=removed#passkeys", removed.Headers.Location!.OriginalString);
        Assert.Empty(await PasskeysAsync(factory, id));
    }

    [Fact]
    public async Task Post_WithoutTheAntiforgeryToken_Is400_AndNothingChanges()
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "passkey-csrf");
        using var passkey = new TestPasskey();
        await StoreAsync(factory, id, passkey);
        using var browser = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "passkey-csrf"));

        using var response = await browser.Http.PostAsync(new Uri("/Account/Passkeys?handler=Remove", UriKind.Relative),
            new FormUrlEncodedContent([new("Id", passkey.Id)]));
        using var options = await browser.Http.PostAsync(new Uri("/Account/Passkeys/CreationOptions", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, options.StatusCode);
        Assert.Single(await PasskeysAsync(factory, id));
    }

    [Fact]
    public async Task AdminDetails_ShowHowManyPasskeysTheAccountHas()
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "passkey-admin-count");
        using var first = new TestPasskey();
        using var second = new TestPasskey();
        await StoreAsync(factory, id, first);
        await StoreAsync(factory, id, second);
        using var client = factory.CreateOidcClient();
        var token = await AdminTestHelpers.AdminTokenAsync(client);

        using var details = await AdminTestHelpers.SendAsync(client.Http, HttpMethod.Get, $"/api/admin/users/{id}", token);
        using var admin = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(admin, TestSeed.UserName, TestSeed.UserPassword));
        using var page = await admin.NavigateAsync($"/Admin/Users/{id}");

        Assert.Equal(2, (await AdminTestHelpers.JsonAsync(details)).GetProperty("passkeys").GetInt32());
        Assert.Equal("2", (await OidcTestClient.ParseAsync(page)).QuerySelector("#passkey-count")!.TextContent);
    }
}
