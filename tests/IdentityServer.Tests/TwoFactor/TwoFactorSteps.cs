using System.Net;
using AngleSharp.Html.Dom;
using IdentityServer.Data;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.TwoFactor;

/// <summary>What the second-factor tests do again and again: sign in, set up the authenticator, answer the second step.</summary>
internal static class TwoFactorSteps
{
    public const string WrongCodeMessage = "That code is not right. Enter the current code from your authenticator app, or a recovery code you have not used.";
    public const string LockedMessage = "This account is locked because of repeated failed sign-ins. Try again later.";

    /// <summary>A fresh account, signed in in <paramref name="browser"/>, with the authenticator set up from the key on the page.</summary>
    public static async Task<(string Id, TestAuthenticator App, IReadOnlyList<string> RecoveryCodes)> EnrolledAccountAsync(
        IdentityServerFactory factory, OidcTestClient browser, string name)
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, name);
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, name));
        var (app, codes) = await EnrolAsync(browser);
        return (id, app, codes);
    }

    /// <summary>Opens the set-up page, reads the key, confirms with a code: the recovery codes the page shows.</summary>
    public static async Task<(TestAuthenticator App, IReadOnlyList<string> RecoveryCodes)> EnrolAsync(OidcTestClient browser)
    {
        using var page = await browser.NavigateAsync("/Account/Authenticator");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var document = await OidcTestClient.ParseAsync(page);
        var app = TestAuthenticator.FromPage(document.QuerySelector("#authenticator-key")!.TextContent);
        Assert.StartsWith("data:image/png;base64,", document.QuerySelector("#qr-code")!.GetAttribute("src"), StringComparison.Ordinal);

        using var done = await browser.SubmitAsync(page, new Dictionary<string, string> { ["Input.Code"] = await app.NextCodeAsync() });
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        var codes = RecoveryCodes(await OidcTestClient.ParseAsync(done));
        Assert.Equal(10, codes.Count);
        return (app, codes);
    }

    public static IReadOnlyList<string> RecoveryCodes(IHtmlDocument page)
    {
        var codes = page.QuerySelectorAll("#recovery-codes code").Select(static c => c.TextContent.Trim()).ToList();
        codes.ForEach(TestLogSink.RecordSecret);
        return codes;
    }

    /// <summary>The password step on the sign-in page (which leads to the second step when the authenticator is on).</summary>
    public static async Task<HttpResponseMessage> PasswordAsync(OidcTestClient browser, string login, string password = AdminTestHelpers.Password, string? returnUrl = null)
    {
        var page = await browser.NavigateAsync(returnUrl is null ? "/Account/Login" : "/Account/Login?ReturnUrl=" + Uri.EscapeDataString(returnUrl));
        return await browser.SubmitAsync(page, new Dictionary<string, string> { ["Input.Login"] = login, ["Input.Password"] = password });
    }

    /// <summary>The password step, expected to lead to the second step, whose page is returned.</summary>
    public static async Task<HttpResponseMessage> SecondStepAsync(OidcTestClient browser, string login, string? returnUrl = null)
    {
        using var password = await PasswordAsync(browser, login, returnUrl: returnUrl);
        Assert.Equal(HttpStatusCode.Redirect, password.StatusCode);
        Assert.StartsWith("/Account/LoginWith2fa", password.Headers.Location!.OriginalString, StringComparison.Ordinal);
        var page = await browser.FollowLocalRedirectsAsync(password);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        return page;
    }

    /// <summary>Posts a code on the second-step page: the answer (a redirect when it signed in).</summary>
    public static Task<HttpResponseMessage> CodeAsync(OidcTestClient browser, HttpResponseMessage secondStep, string code) =>
        browser.SubmitAsync(secondStep, new Dictionary<string, string> { ["Input.Code"] = code });

    /// <summary>The message a page shows in its alert, if any.</summary>
    public static async Task<string?> ErrorAsync(HttpResponseMessage page) =>
        page.StatusCode == HttpStatusCode.OK ? (await OidcTestClient.ParseAsync(page)).QuerySelector("[role=alert]")?.TextContent.Trim() : null;

    public static Task<ApplicationUser> AccountAsync(IdentityServerFactory factory, string id) => factory.WithScopeAsync(services =>
        services.GetRequiredService<ApplicationDbContext>().Users.AsNoTracking().SingleAsync(u => u.Id == id));

    public static Task<int> RecoveryCodesLeftAsync(IdentityServerFactory factory, string id) => factory.WithScopeAsync(async services =>
    {
        var users = services.GetRequiredService<UserManager<ApplicationUser>>();
        return await users.CountRecoveryCodesAsync((await users.FindByIdAsync(id))!);
    });

    /// <summary>The account's security events (type and detail), oldest first, session starts left out.</summary>
    public static Task<List<(string Type, string? Detail)>> EventsAsync(IdentityServerFactory factory, string id) => factory.WithScopeAsync(async services =>
        (await services.GetRequiredService<ApplicationDbContext>().SecurityEvents.AsNoTracking()
            .Where(e => e.UserId == id && e.Type != Audit.SecurityEventTypes.SessionStarted)
            .OrderBy(e => e.Id)
            .Select(e => new { e.Type, e.Detail }).ToListAsync())
        .Select(static e => (e.Type, e.Detail)).ToList());
}
