using System.Net;
using System.Text.Json;
using IdentityServer.Data;
using IdentityServer.Tests.Sessions;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Passkeys;

/// <summary>What the passkey tests do again and again: ask for options as passkeys.js does, post the answer as its form does.</summary>
internal static class PasskeySteps
{
    public const string FailedMessage = "That passkey did not work. Try again, or sign in with your password.";

    /// <summary>POSTs to an options endpoint with the antiforgery token of <paramref name="page"/>, as passkeys.js does.</summary>
    public static async Task<HttpResponseMessage> OptionsResponseAsync(OidcTestClient browser, HttpResponseMessage page, string path)
    {
        var token = (await OidcTestClient.ParseAsync(page)).QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative));
        request.Headers.Add("RequestVerificationToken", token);
        return await browser.Http.SendAsync(request);
    }

    public static async Task<JsonElement> OptionsAsync(OidcTestClient browser, HttpResponseMessage page, string path)
    {
        using var response = await OptionsResponseAsync(browser, page, path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>The sign-in page (with an optional return URL), its request options, and the passkey form posted with the answer.</summary>
    public static async Task<HttpResponseMessage> SignInAsync(OidcTestClient browser, TestPasskey passkey, string userId, string? returnUrl = null,
        string origin = TestPasskey.Origin)
    {
        using var page = await browser.NavigateAsync(returnUrl is null ? "/Account/Login" : "/Account/Login?ReturnUrl=" + Uri.EscapeDataString(returnUrl));
        var options = await OptionsAsync(browser, page, "/Account/Passkeys/RequestOptions");
        return await PostCredentialAsync(browser, page, passkey.Assertion(options, userId, origin));
    }

    /// <summary>Posts the sign-in page's passkey form with <paramref name="credential"/> as the browser's answer.</summary>
    public static Task<HttpResponseMessage> PostCredentialAsync(OidcTestClient browser, HttpResponseMessage page, string credential) =>
        browser.SubmitFormAsync(page, "#passkey-form", new Dictionary<string, string> { ["PasskeyCredential"] = credential });

    /// <summary>Registers <paramref name="passkey"/> for the account directly in the store.</summary>
    public static Task StoreAsync(IdentityServerFactory factory, string userId, TestPasskey passkey, string name = "Test key") =>
        factory.WithScopeAsync(async services =>
        {
            var users = services.GetRequiredService<UserManager<ApplicationUser>>();
            var result = await users.AddOrUpdatePasskeyAsync((await users.FindByIdAsync(userId))!, passkey.Stored(name));
            Assert.True(result.Succeeded);
            return true;
        });

    public static Task<IList<UserPasskeyInfo>> PasskeysAsync(IdentityServerFactory factory, string userId) =>
        factory.WithScopeAsync(async services =>
        {
            var users = services.GetRequiredService<UserManager<ApplicationUser>>();
            return await users.GetPasskeysAsync((await users.FindByIdAsync(userId))!);
        });
}
