using System.Net;
using IdentityServer.BackchannelLogout;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace IdentityServer.Tests.BackchannelLogout;

/// <summary>
/// A server whose clients have back-channel logout URIs on a <see cref="LogoutReceiver"/>. The
/// scheduler does not run unless <see cref="RunScheduler"/>: tests run the delivery job themselves,
/// so nothing else can deliver behind their back.
/// </summary>
public class BackchannelLogoutFactory : IdentityServerFactory
{
    public const string Shop = "shop";
    public const string Notes = "notes";
    public const string Wiki = "wiki";
    public const string Portal = "portal";
    public const string Secret = "client-secret-0123456789";
    public const string ShopPostLogoutRedirectUri = "https://shop.example/signout-callback-oidc";

    public BackchannelLogoutFactory()
    {
        Receiver = LogoutReceiver.Start();
        // The receiver listens on loopback, which outside Development only allowed clients may use.
        foreach (var (client, i) in new[] { Shop, Notes, Wiki }.Select((c, i) => (c, i)))
        {
            Settings[$"BackchannelLogout:AllowPrivateNetworks:{i}"] = client;
        }
        // Every client users sign in to has a back-channel URI except the portal; the wiki is never used.
        File.WriteAllText(SeedPath, $$"""
        {
          "Clients": [
            { "ClientId": "{{Shop}}", "ClientSecret": "{{Secret}}", "DisplayName": "Shop", "ConsentType": "explicit",
              "RedirectUris": ["{{RedirectUri(Shop)}}"], "PostLogoutRedirectUris": ["{{ShopPostLogoutRedirectUri}}"],
              "GrantTypes": ["authorization_code"], "Scopes": ["openid", "profile"],
              "BackchannelLogoutUri": "{{Receiver.UriFor(Shop)}}" },
            { "ClientId": "{{Notes}}", "ClientSecret": "{{Secret}}", "ConsentType": "implicit",
              "RedirectUris": ["{{RedirectUri(Notes)}}"], "GrantTypes": ["authorization_code"], "Scopes": ["openid"],
              "BackchannelLogoutUri": "{{Receiver.UriFor(Notes)}}" },
            { "ClientId": "{{Wiki}}", "ClientSecret": "{{Secret}}", "ConsentType": "implicit",
              "RedirectUris": ["{{RedirectUri(Wiki)}}"], "GrantTypes": ["authorization_code"], "Scopes": ["openid"],
              "BackchannelLogoutUri": "{{Receiver.UriFor(Wiki)}}" },
            { "ClientId": "{{Portal}}", "ClientSecret": "{{Secret}}", "ConsentType": "implicit",
              "RedirectUris": ["{{RedirectUri(Portal)}}"], "GrantTypes": ["authorization_code"], "Scopes": ["openid"] }
          ],
          "Users": [ { "UserName": "{{TestSeed.UserName}}", "Email": "{{TestSeed.UserEmail}}", "Password": "{{TestSeed.UserPassword}}" } ]
        }
        """);
    }

    public LogoutReceiver Receiver { get; }

    /// <summary>Whether Quartz runs (signals and the poll trigger deliver on their own).</summary>
    protected virtual bool RunScheduler => false;

    public static string RedirectUri(string clientId) => $"https://{clientId}.example/signin-oidc";

    protected override void ConfigureTestServices(IWebHostBuilder builder)
    {
        builder.ConfigureTestServices(services =>
        {
            if (!RunScheduler)
            {
                RemoveScheduler(services);
            }
            ConfigureServices(services);
        });
    }

    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    /// <summary>The code flow for one of this seed's clients in the browser <paramref name="client"/>.</summary>
    public static async Task<TokenResponse> SignInAsync(OidcTestClient client, string clientId)
    {
        var pkce = Pkce.Create();
        var redirect = await client.AuthorizeAsync(OidcTestClient.CodeRequest(clientId, RedirectUri(clientId), "openid", pkce));
        var tokens = await client.TokenAsync(
            ("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]), ("redirect_uri", RedirectUri(clientId)),
            ("code_verifier", pkce.Verifier), ("client_id", clientId), ("client_secret", Secret));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        return tokens;
    }

    public Task<BackchannelLogoutResult> RunJobAsync() =>
        WithScopeAsync(services => ActivatorUtilities.CreateInstance<BackchannelLogoutJob>(services).RunAsync(CancellationToken.None));

    public Task<List<BackchannelLogoutDelivery>> DeliveriesAsync(string sessionId) =>
        WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>().BackchannelLogoutDeliveries.AsNoTracking()
            .Where(d => d.SessionId == sessionId).OrderBy(d => d.ClientId).ToListAsync());

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Receiver.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
