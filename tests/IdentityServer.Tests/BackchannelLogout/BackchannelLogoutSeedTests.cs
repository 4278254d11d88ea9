using IdentityServer.Authorization;
using IdentityServer.BackchannelLogout;
using IdentityServer.Seeding;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityServer.Tests.BackchannelLogout;

public sealed class BackchannelLogoutSeedTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>, IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("idp-seed-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Theory]
    [InlineData("logout", "Clients[0] ('shop'): BackchannelLogoutUri: 'logout' is not an absolute http(s) URI.")]
    [InlineData("/logout", "Clients[0] ('shop'): BackchannelLogoutUri: '/logout' is not an absolute http(s) URI.")]
    [InlineData("ftp://shop.example/logout", "Clients[0] ('shop'): BackchannelLogoutUri: 'ftp://shop.example/logout' is not an absolute http(s) URI.")]
    [InlineData("http://shop.example/logout", "Clients[0] ('shop'): BackchannelLogoutUri: 'http://shop.example/logout' uses plain http on a non-loopback host; use https.")]
    [InlineData("https://shop.example/logout#x", "Clients[0] ('shop'): BackchannelLogoutUri: 'https://shop.example/logout#x' must not contain a fragment.")]
    public void Seed_InvalidBackchannelLogoutUri_NamesFileEntryAndProblem(string uri, string expected)
    {
        var path = Write($$"""{ "Clients": [ { "ClientId": "shop", "ClientSecret": "s", "GrantTypes": ["authorization_code"], "RedirectUris": ["https://shop.example/cb"], "BackchannelLogoutUri": "{{uri}}" } ] }""");
        var error = Assert.Throws<SeedException>(() => SeedLoader.Load(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Seed_BackchannelLogoutUriWithoutCodeFlow_IsRejected()
    {
        var path = Write("""{ "Clients": [ { "ClientId": "w", "ClientSecret": "s", "GrantTypes": ["client_credentials"], "BackchannelLogoutUri": "https://w.example/logout" } ] }""");
        var error = Assert.Throws<SeedException>(() => SeedLoader.Load(path));
        Assert.Contains("Clients[0] ('w'): BackchannelLogoutUri needs the authorization_code grant", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://shop.example/logout")]
    [InlineData("http://127.0.0.1:5001/logout")]
    [InlineData("http://localhost/logout?tenant=a")]
    public void Seed_ValidBackchannelLogoutUri_IsAccepted(string uri)
    {
        var path = Write($$"""{ "Clients": [ { "ClientId": "shop", "ClientSecret": "s", "GrantTypes": ["authorization_code"], "RedirectUris": ["https://shop.example/cb"], "BackchannelLogoutUri": "{{uri}}" } ] }""");
        Assert.Equal(uri, Assert.Single(SeedLoader.Load(path).Clients).BackchannelLogoutUri);
    }

    [Fact]
    public async Task Seed_BackchannelLogoutUri_IsStoredUpdatedAndRemovedIdempotently()
    {
        _ = factory.Server;
        // A property set by something other than the seed survives every change below.
        await Update(TestSeed.WebClientId, app => app.Properties = """{"owner":"team-a"}""");

        var document = SeedLoader.Load(factory.SeedPath);
        var shop = document.Clients.Single(c => c.ClientId == TestSeed.WebClientId);
        shop.BackchannelLogoutUri = "https://shop.example/backchannel";
        await Apply(document);
        Assert.Equal("https://shop.example/backchannel", (await Properties())[BackchannelLogoutOutbox.UriProperty].GetString());

        var stamp = await ConcurrencyToken();
        await Apply(document);
        Assert.Equal(stamp, await ConcurrencyToken());

        shop.BackchannelLogoutUri = "https://shop.example/backchannel-v2";
        await Apply(document);
        Assert.Equal("https://shop.example/backchannel-v2", (await Properties())[BackchannelLogoutOutbox.UriProperty].GetString());

        shop.BackchannelLogoutUri = null;
        await Apply(document);
        var properties = await Properties();
        Assert.False(properties.ContainsKey(BackchannelLogoutOutbox.UriProperty));
        Assert.Equal("team-a", properties["owner"].GetString());
        stamp = await ConcurrencyToken();
        await Apply(document);
        Assert.Equal(stamp, await ConcurrencyToken());
    }

    private string Write(string json)
    {
        var path = Path.Combine(folder, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }

    private Task<int> Apply(SeedDocument document) => factory.WithScopeAsync(async services =>
    {
        await services.GetRequiredService<Seeder>().ApplyAsync(document, "test", CancellationToken.None);
        return 0;
    });

    private static async Task<OpenIddictEntityFrameworkCoreApplication> FindUncached(IServiceProvider services, string clientId) =>
        (OpenIddictEntityFrameworkCoreApplication)(await services.GetRequiredService<IOpenIddictApplicationManager>().FindByClientIdAsync(clientId))!;

    private Task<int> Update(string clientId, Action<OpenIddictEntityFrameworkCoreApplication> change) => factory.WithScopeAsync(async services =>
    {
        using var _ = LookupCache.Bypass();
        var application = await FindUncached(services, clientId);
        change(application);
        await services.GetRequiredService<IOpenIddictApplicationManager>().UpdateAsync(application);
        return 0;
    });

    private Task<System.Collections.Immutable.ImmutableDictionary<string, System.Text.Json.JsonElement>> Properties() => factory.WithScopeAsync(async services =>
    {
        using var _ = LookupCache.Bypass();
        var applications = services.GetRequiredService<IOpenIddictApplicationManager>();
        return await applications.GetPropertiesAsync(await FindUncached(services, TestSeed.WebClientId));
    });

    private Task<string?> ConcurrencyToken() => factory.WithScopeAsync(async services =>
    {
        using var _ = LookupCache.Bypass();
        return (await FindUncached(services, TestSeed.WebClientId)).ConcurrencyToken;
    });
}
