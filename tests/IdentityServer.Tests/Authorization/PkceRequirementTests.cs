using IdentityServer.Seeding;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using static IdentityServer.Tests.Authorization.AuthorizationErrorRedirectTests;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Tests.Authorization;

/// <summary>
/// RFC 9700 2.1.1: PKCE is required from every client unless the seed exempts a confidential one
/// (<c>RequirePkce: false</c>, as the test seed does for the portal), which is logged at start-up.
/// </summary>
public sealed class PkceRequirementTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task Pkce_ConfidentialClientWithoutSetting_CodeRequestWithoutChallengeRedirectsInvalidRequest()
    {
        // The shop's seed entry does not mention RequirePkce.
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        using var response = await client.GetAuthorizeAsync(
            OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", pkce: null, state: "no-pkce"));

        var returned = AssertRedirected(response, TestSeed.WebRedirectUri, '?');
        Assert.Equal("invalid_request", returned["error"]);
        Assert.Equal("no-pkce", returned["state"]);
        Assert.Equal("https://localhost/", returned["iss"]);
        Assert.False(returned.ContainsKey("code"));
    }

    [Fact]
    public async Task Pkce_ConfidentialClientOptedOut_IssuesCodeWithoutChallenge()
    {
        using var client = factory.CreateOidcClient();
        var redirect = await client.SignInThroughPortalAsync();

        Assert.StartsWith(TestSeed.PortalRedirectUri + "?code=", redirect.AbsoluteUri, StringComparison.Ordinal);
    }

    [Fact]
    public void Pkce_OptOut_IsLoggedAtStartupAsWarningNamingTheClient()
    {
        _ = factory.Server;

        var warnings = factory.Logs.Entries.Where(static e => e.Level == LogLevel.Warning && e.Message.Contains("PKCE", StringComparison.Ordinal)).ToList();
        var warning = Assert.Single(warnings);
        Assert.Contains($"Client {TestSeed.ImplicitConsentClientId} ", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pkce_SeedClientWithoutSetting_RequiresPkce()
    {
        var descriptor = Seeder.ToDescriptor(new SeedClient
        {
            ClientId = "web", ClientSecret = "secret", ClientType = ClientTypes.Confidential,
            RedirectUris = ["https://web.example/cb"], GrantTypes = [GrantTypes.AuthorizationCode],
        });

        Assert.Contains(Requirements.Features.ProofKeyForCodeExchange, descriptor.Requirements);
    }

    [Fact]
    public void Pkce_PublicClientOptedOut_IsRefusedAtSeedLoad()
    {
        var path = Path.Combine(factory.Folder, "public-without-pkce.json");
        File.WriteAllText(path, """
            { "Clients": [ { "ClientId": "spa", "ClientType": "public", "RequirePkce": false,
                "GrantTypes": ["authorization_code"], "RedirectUris": ["http://127.0.0.1:7890/callback"] } ] }
            """);

        var error = Assert.Throws<SeedException>(() => SeedLoader.Load(path));

        Assert.Contains("Clients[0] ('spa'): RequirePkce cannot be false for a public client", error.Message, StringComparison.Ordinal);
    }
}
