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
    [InlineData("https://203.0.113.7/logout")]
    [InlineData("https://[2001:db8::7]/logout")]
    public void Seed_ValidBackchannelLogoutUri_IsAccepted(string uri)
    {
        var path = WriteShop(uri);
        Assert.Equal(uri, Assert.Single(SeedLoader.Load(path).Clients).BackchannelLogoutUri);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5001/logout")]
    [InlineData("http://localhost/logout?tenant=a")]
    [InlineData("http://[::1]:5001/logout")]
    [InlineData("https://10.0.0.5/logout")]
    public void Seed_PrivateNetworkBackchannelLogoutUri_IsAcceptedInDevelopmentAndForAllowedClients(string uri)
    {
        var path = WriteShop(uri);
        Assert.Equal(uri, Assert.Single(SeedLoader.Load(path, BackchannelLogoutTargets.Development).Clients).BackchannelLogoutUri);
        Assert.Equal(uri, Assert.Single(SeedLoader.Load(path, new BackchannelLogoutTargets(isDevelopment: false, ["shop"])).Clients).BackchannelLogoutUri);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5001/logout", "a loopback address")]
    [InlineData("https://127.8.9.10/logout", "a loopback address")]
    [InlineData("https://[::1]/logout", "a loopback address")]
    [InlineData("https://[::ffff:127.0.0.1]/logout", "a loopback address")]
    [InlineData("https://2130706433/logout", "a loopback address")]
    [InlineData("https://0x7f.1/logout", "a loopback address")]
    [InlineData("http://localhost:5001/logout", "a loopback address")]
    [InlineData("https://shop.localhost/logout", "a loopback address")]
    [InlineData("https://10.1.2.3/logout", "a private network address (RFC 1918, fc00::/7)")]
    [InlineData("https://172.16.0.1/logout", "a private network address (RFC 1918, fc00::/7)")]
    [InlineData("https://192.168.1.10/logout", "a private network address (RFC 1918, fc00::/7)")]
    [InlineData("https://[fd12:3456::1]/logout", "a private network address (RFC 1918, fc00::/7)")]
    [InlineData("https://169.254.10.20/logout", "a link-local address (169.254.0.0/16, fe80::/10)")]
    [InlineData("https://[fe80::1]/logout", "a link-local address (169.254.0.0/16, fe80::/10)")]
    [InlineData("https://100.64.0.1/logout", "a shared (carrier-grade NAT) address (100.64.0.0/10)")]
    public void Seed_PrivateNetworkBackchannelLogoutUriOutsideDevelopment_IsRefusedNamingClientAndRule(string uri, string kind)
    {
        var path = WriteShop(uri);
        var error = Assert.Throws<SeedException>(() => SeedLoader.Load(path, new BackchannelLogoutTargets(isDevelopment: false, ["another-client"])));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains($"Clients[0] ('shop'): BackchannelLogoutUri: '{uri}' points at {kind}; outside Development only clients listed in BackchannelLogout:AllowPrivateNetworks may use loopback, private, link-local or shared addresses.", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://169.254.169.254/latest/meta-data/", "a cloud metadata endpoint")]
    [InlineData("https://[fd00:ec2::254]/logout", "a cloud metadata endpoint")]
    [InlineData("https://metadata.google.internal/computeMetadata/v1/", "a cloud metadata endpoint")]
    [InlineData("https://100.100.100.200/logout", "a cloud metadata endpoint")]
    [InlineData("https://0.0.0.0/logout", "the unspecified address")]
    [InlineData("https://[::]/logout", "the unspecified address")]
    [InlineData("https://224.0.0.1/logout", "a multicast address")]
    [InlineData("https://255.255.255.255/logout", "a reserved or broadcast address")]
    public void Seed_NeverAllowedBackchannelLogoutUri_IsRefusedEvenInDevelopmentAndForAllowedClients(string uri, string kind)
    {
        var path = WriteShop(uri);
        foreach (var targets in new[] { BackchannelLogoutTargets.Strict, BackchannelLogoutTargets.Development, new BackchannelLogoutTargets(isDevelopment: false, ["shop"]) })
        {
            var error = Assert.Throws<SeedException>(() => SeedLoader.Load(path, targets));
            Assert.Contains($"Clients[0] ('shop'): BackchannelLogoutUri: '{uri}' points at {kind}, which is never allowed.", error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("shop")]
    public void Startup_SeedWithLoopbackBackchannelLogoutUri_StartsOnlyWhenTheClientIsAllowed(string? allowed)
    {
        // The "Testing" environment is not Development: the rules of production apply.
        using var host = new IdentityServerFactory();
        File.WriteAllText(host.SeedPath, File.ReadAllText(WriteShop("http://127.0.0.1:5001/logout")));
        if (allowed is null)
        {
            var error = Assert.Throws<SeedException>(() => host.Services);
            Assert.Contains("Clients[0] ('shop'): BackchannelLogoutUri: 'http://127.0.0.1:5001/logout' points at a loopback address", error.Message, StringComparison.Ordinal);
        }
        else
        {
            host.Settings["BackchannelLogout:AllowPrivateNetworks:0"] = allowed;
            Assert.NotNull(host.Services);
        }
    }

    [Fact]
    public void Startup_EmptyClientIdInAllowPrivateNetworks_Stops()
    {
        using var host = new IdentityServerFactory();
        host.Settings["BackchannelLogout:AllowPrivateNetworks:0"] = " ";
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => host.Services);
        Assert.Contains("BackchannelLogout:AllowPrivateNetworks", error.Message, StringComparison.Ordinal);
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

    private string WriteShop(string backchannelLogoutUri) =>
        Write($$"""{ "Clients": [ { "ClientId": "shop", "ClientSecret": "s", "GrantTypes": ["authorization_code"], "RedirectUris": ["https://shop.example/cb"], "BackchannelLogoutUri": "{{backchannelLogoutUri}}" } ] }""");

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
