using System.Net;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Admin.AdminTestHelpers;

namespace IdentityServer.Tests.Admin;

/// <summary>A server where a user-facing app may ask for the idp.admin scope (a console for operators).</summary>
public sealed class AdminConsoleFactory : IdentityServerFactory
{
    public const string ConsoleClientId = "ops-console";
    public const string ConsoleSecret = "ops-console-secret-0123456789";
    public const string ConsoleRedirectUri = "https://ops.example/signin-oidc";

    public AdminConsoleFactory() => File.WriteAllText(SeedPath, $$"""
    {
      "Clients": [
        { "ClientId": "{{ConsoleClientId}}", "ClientSecret": "{{ConsoleSecret}}", "ConsentType": "implicit",
          "RedirectUris": ["{{ConsoleRedirectUri}}"], "GrantTypes": ["authorization_code"], "Scopes": ["openid", "idp.admin"] }
      ],
      "Users": [
        { "UserName": "{{TestSeed.UserName}}", "Email": "{{TestSeed.UserEmail}}", "Password": "{{TestSeed.UserPassword}}", "Roles": ["admin"] },
        { "UserName": "{{TestSeed.SecondUserName}}", "Email": "bob@example.com", "Password": "{{TestSeed.SecondUserPassword}}" }
      ]
    }
    """);
}

public sealed class AdminUserTokenTests(AdminConsoleFactory factory) : IClassFixture<AdminConsoleFactory>
{
    [Theory]
    [InlineData(TestSeed.UserName, TestSeed.UserPassword, HttpStatusCode.OK)]
    [InlineData(TestSeed.SecondUserName, TestSeed.SecondUserPassword, HttpStatusCode.Forbidden)]
    public async Task AdminApi_UserTokenWithAdminScope_NeedsTheAdminRole(string login, string password, HttpStatusCode expected)
    {
        using var browser = factory.CreateOidcClient();
        var pkce = Pkce.Create();
        var redirect = await browser.AuthorizeAsync(
            OidcTestClient.CodeRequest(AdminConsoleFactory.ConsoleClientId, AdminConsoleFactory.ConsoleRedirectUri, "openid idp.admin", pkce), login, password);
        var tokens = await browser.TokenAsync(
            ("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]), ("redirect_uri", AdminConsoleFactory.ConsoleRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", AdminConsoleFactory.ConsoleClientId), ("client_secret", AdminConsoleFactory.ConsoleSecret));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        Assert.Contains("idp.admin", tokens["scope"]!.Split(' '));

        using var api = factory.CreateBrowserlikeClient();
        using var response = await SendAsync(api, HttpMethod.Get, "/api/admin/users", tokens["access_token"]!);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task AdminApi_UserTokenOfAnAdmin_ActsAsThatAdmin_WhoCannotLockOrResetTheirOwnAccount()
    {
        using var browser = factory.CreateOidcClient();
        var token = await ConsoleTokenAsync(browser);
        var self = await UserIdAsync(factory, TestSeed.UserName);

        using var reset = await SendAsync(factory.CreateBrowserlikeClient(), HttpMethod.Post, $"/api/admin/users/{self}/reset-second-factors", token);
        using var locked = await SendAsync(factory.CreateBrowserlikeClient(), HttpMethod.Post, $"/api/admin/users/{self}/lock", token);

        Assert.Equal(HttpStatusCode.Conflict, reset.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, locked.StatusCode);
        // Acting on someone else is recorded as the admin, not as the app that holds the token.
        var other = await UserIdAsync(factory, TestSeed.SecondUserName);
        using var unlock = await SendAsync(factory.CreateBrowserlikeClient(), HttpMethod.Post, $"/api/admin/users/{other}/unlock", token);
        Assert.Equal(HttpStatusCode.NoContent, unlock.StatusCode);
        var events = await factory.WithScopeAsync(services => services.GetRequiredService<Data.ApplicationDbContext>().SecurityEvents.AsNoTracking()
            .Where(e => e.UserId == other && e.Type == Audit.SecurityEventTypes.UserUnlocked).Select(e => e.Actor).ToListAsync());
        Assert.Equal(self, Assert.Single(events));
    }

    private async Task<string> ConsoleTokenAsync(OidcTestClient browser)
    {
        var pkce = Pkce.Create();
        var redirect = await browser.AuthorizeAsync(
            OidcTestClient.CodeRequest(AdminConsoleFactory.ConsoleClientId, AdminConsoleFactory.ConsoleRedirectUri, "openid idp.admin", pkce), TestSeed.UserName, TestSeed.UserPassword);
        var tokens = await browser.TokenAsync(
            ("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]), ("redirect_uri", AdminConsoleFactory.ConsoleRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", AdminConsoleFactory.ConsoleClientId), ("client_secret", AdminConsoleFactory.ConsoleSecret));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        return tokens["access_token"]!;
    }
}
