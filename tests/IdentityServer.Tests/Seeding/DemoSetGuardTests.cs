using System.Net;
using IdentityServer.Seeding;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Seeding;

/// <summary>
/// Outside Development the server refuses a database that holds the Development demo set with its
/// published credentials (a database made by <c>dotnet run</c>, later started in Production).
/// </summary>
public sealed class DemoSetGuardTests
{
    // The demo credentials are published (README, the Development banner): the log scan of a test
    // run must not take them for a leak once these tests have put them in seed files.
    public DemoSetGuardTests() => TestLogSink.IgnoreAsSecrets([DevelopmentSeed.Password, DevelopmentSeed.WebClientSecret]);

    [Fact]
    public void Start_DemoClientWithItsPublishedSecret_RefusedWithWhatToDo()
    {
        using var factory = FactoryWith($$"""
            { "ClientId": "{{DevelopmentSeed.WebClientId}}", "ClientSecret": "{{DevelopmentSeed.WebClientSecret}}",
              "RedirectUris": ["{{DevelopmentSeed.WebRedirectUri}}"], "GrantTypes": ["authorization_code"], "Scopes": ["openid"] }
            """, users: "");

        var message = Assert.ThrowsAny<Exception>(() => factory.CreateClient()).GetBaseException().Message;

        Assert.Contains("Development demo set (client 'demo-web' with its demo secret)", message, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings:Default", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_DemoUserWithThePublishedPassword_Refused()
    {
        using var factory = FactoryWith(clients: "", users: $$"""
            { "UserName": "{{DevelopmentSeed.UserName}}", "Email": "alice@example.com", "Password": "{{DevelopmentSeed.Password}}" }
            """);

        var message = Assert.ThrowsAny<Exception>(() => factory.CreateClient()).GetBaseException().Message;

        Assert.Contains("(user 'alice' with the demo password)", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_DemoNamesWithOtherSecrets_Serves()
    {
        using var factory = FactoryWith($$"""
            { "ClientId": "{{DevelopmentSeed.WebClientId}}", "ClientSecret": "a-secret-of-this-deployment-0123456789",
              "RedirectUris": ["{{DevelopmentSeed.WebRedirectUri}}"], "GrantTypes": ["authorization_code"], "Scopes": ["openid"] }
            """, users: $$"""
            { "UserName": "{{DevelopmentSeed.UserName}}", "Email": "alice@example.com", "Password": "A-password-of-this-deployment-1" }
            """);

        using var client = factory.CreateBrowserlikeClient();
        var response = await client.GetAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Start_DemoSetInDevelopment_Serves()
    {
        using var factory = new IdentityServerFactory { EnvironmentName = "Development" };
        factory.Settings.Remove("Seed:Path");

        using var client = factory.CreateBrowserlikeClient();
        var response = await client.GetAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static IdentityServerFactory FactoryWith(string clients, string users)
    {
        var factory = new IdentityServerFactory { EnvironmentName = "Production" };
        File.WriteAllText(factory.SeedPath, $$"""{ "Clients": [ {{clients}} ], "Users": [ {{users}} ] }""");
        return factory;
    }
}
