using IdentityServer.Seeding;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;

namespace IdentityServer.Tests.StepUp;

/// <summary>RequireMfa in the seed: stored on the client, and set and removed with the seed.</summary>
public sealed class RequireMfaSeedTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task Seed_RequireMfa_IsStoredOnTheClient_AndRemovedWithTheSeed()
    {
        _ = factory.Server;
        Assert.Null(await StoredPropertyAsync(TestSeed.WebClientId));

        var document = SeedLoader.Load(factory.SeedPath);
        document.Clients.Single(c => c.ClientId == TestSeed.WebClientId).RequireMfa = true;
        await ApplyAsync(document);
        Assert.Equal("true", await StoredPropertyAsync(TestSeed.WebClientId));
        Assert.Null(await StoredPropertyAsync(TestSeed.ImplicitConsentClientId));

        await ApplyAsync(SeedLoader.Load(factory.SeedPath));
        Assert.Null(await StoredPropertyAsync(TestSeed.WebClientId));
    }

    private Task<string?> StoredPropertyAsync(string clientId) => factory.WithScopeAsync(async services =>
    {
        using var _ = IdentityServer.Authorization.LookupCache.Bypass();
        var applications = services.GetRequiredService<IOpenIddictApplicationManager>();
        var properties = await applications.GetPropertiesAsync((await applications.FindByClientIdAsync(clientId))!);
        return properties.TryGetValue("require_mfa", out var value) ? value.GetRawText() : null;
    });

    private Task<int> ApplyAsync(SeedDocument document) => factory.WithScopeAsync(async services =>
    {
        await services.GetRequiredService<Seeder>().ApplyAsync(document, "test", CancellationToken.None);
        return 0;
    });
}
