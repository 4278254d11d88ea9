using System.Net;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Account;

/// <summary>
/// /Account/Apps lists the apps a user allowed with "Remember my decision"; "Remove access" revokes
/// that consent and every grant and token the app holds for the user, and the app asks again.
/// </summary>
public sealed class ConnectedAppsTests
{
    [Fact]
    public async Task RemoveAccess_RevokesTheAppsTokensAtOnce_AndTheAppAsksAgain()
    {
        using var factory = new IdentityServerFactory();
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync(); // consent given with "Remember my decision" (ticked by default)

        var apps = await client.NavigateAsync("/Account/Apps");
        var page = await OidcTestClient.ParseAsync(apps);
        var shop = page.QuerySelector($"li[data-client-id='{TestSeed.WebClientId}']");
        Assert.NotNull(shop);
        Assert.Equal("Shop", shop.QuerySelector(".app-name")!.TextContent);
        Assert.Contains(TestSeed.ApiScope, shop.QuerySelectorAll("li[data-scope]").Select(static li => li.GetAttribute("data-scope")));
        Assert.Equal("time", shop.QuerySelector(".last-used")!.LocalName);
        Assert.Equal("Remove access for Shop", shop.QuerySelector("button.remove-access")!.GetAttribute("aria-label"));

        using var removed = await client.SubmitAsync(apps, new Dictionary<string, string> { ["clientId"] = TestSeed.WebClientId }, button: null);
        Assert.Equal(HttpStatusCode.Redirect, removed.StatusCode);
        var after = await OidcTestClient.ParseAsync(await client.NavigateAsync(removed.Headers.Location!.OriginalString));
        Assert.StartsWith("Shop no longer has access", after.QuerySelector("#message")!.TextContent, StringComparison.Ordinal);
        Assert.NotNull(after.QuerySelector("#no-apps"));

        Assert.Equal("invalid_grant", (await client.RefreshAsync(tokens["refresh_token"]!)).Error);
        Assert.Equal("false", (await client.IntrospectAsync(tokens["access_token"]!))["active"]);
        using var again = await client.GetAuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create()));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.NotNull((await OidcTestClient.ParseAsync(again)).QuerySelector("#accept"));
        Assert.True(await factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>().SecurityEvents
            .AnyAsync(static e => e.Type == SecurityEventTypes.AccessRemoved && e.ClientId == TestSeed.WebClientId)));
    }

    [Fact]
    public async Task ConsentWithoutRememberMyDecision_IsNotListed_AndTheAppAsksAgain()
    {
        using var factory = new IdentityServerFactory();
        using var client = factory.CreateOidcClient();
        var request = OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create());
        var consent = await client.NavigateAsync(OidcTestClient.AuthorizeUrl(request));
        consent = await client.SignInAsync(consent, TestSeed.UserName, TestSeed.UserPassword);
        Assert.True((await OidcTestClient.ParseAsync(consent)).QuerySelector("#remember")!.HasAttribute("checked"));

        using var allowed = await client.SubmitAsync(consent, new Dictionary<string, string> { ["remember"] = "no" }, button: "accept");
        Assert.Contains("code", OidcTestClient.Query(allowed.Headers.Location!).Keys);

        Assert.NotNull((await OidcTestClient.ParseAsync(await client.NavigateAsync("/Account/Apps"))).QuerySelector("#no-apps"));
        using var again = await client.GetAuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create()));
        Assert.NotNull((await OidcTestClient.ParseAsync(again)).QuerySelector("#accept"));
    }

    [Fact]
    public async Task RemoveAccess_OfAnAppNotAllowed_ChangesNothing()
    {
        using var factory = new IdentityServerFactory();
        using var client = factory.CreateOidcClient();
        await client.CodeFlowAsync();
        var apps = await client.NavigateAsync("/Account/Apps");

        using var response = await client.SubmitAsync(apps, new Dictionary<string, string> { ["clientId"] = TestSeed.WorkerClientId });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await OidcTestClient.ParseAsync(response);
        Assert.Equal("That app had no access to remove.", page.QuerySelector("#message")!.TextContent);
        Assert.NotNull(page.QuerySelector($"li[data-client-id='{TestSeed.WebClientId}']"));
    }
}
