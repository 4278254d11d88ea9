using IdentityServer.Data;
using IdentityServer.Seeding;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityServer.Tests.Seeding;

public sealed class SeedApplyTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task Seed_AppliedTwice_ChangesNothingTheSecondTime()
    {
        _ = factory.Server;
        var before = await Snapshot();
        await Apply(SeedLoader.Load(factory.SeedPath));
        Assert.Equal(before, await Snapshot());
    }

    [Fact]
    public async Task Seed_ClientSecret_IsStoredOnlyAsHash()
    {
        _ = factory.Server;
        var secret = await factory.WithScopeAsync(async services =>
        {
            var context = services.GetRequiredService<ApplicationDbContext>();
            return await context.Set<OpenIddictEntityFrameworkCoreApplication>().Where(a => a.ClientId == TestSeed.WebClientId).Select(a => a.ClientSecret).SingleAsync();
        });
        Assert.NotNull(secret);
        Assert.DoesNotContain(TestSeed.WebClientSecret, secret, StringComparison.Ordinal);

        var password = await factory.WithScopeAsync(async services =>
            (await services.GetRequiredService<UserManager<ApplicationUser>>().FindByNameAsync(TestSeed.UserName))!.PasswordHash);
        Assert.DoesNotContain(TestSeed.UserPassword, password!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Seed_ChangedEntries_AreUpdatedAndOthersLeftAlone()
    {
        _ = factory.Server;
        // Something created outside the seed (an admin's client) must survive.
        await factory.WithScopeAsync(async services =>
        {
            var applications = services.GetRequiredService<IOpenIddictApplicationManager>();
            return await applications.CreateAsync(new OpenIddictApplicationDescriptor { ClientId = "manual", ClientSecret = "manual-secret", ClientType = "confidential" });
        });

        var document = SeedLoader.Load(factory.SeedPath);
        var worker = document.Clients.Single(c => c.ClientId == TestSeed.WorkerClientId);
        worker.DisplayName = "Billing worker v2";
        worker.ClientSecret = "rotated-secret-0123456789";
        document.Users.Single(u => u.UserName == TestSeed.SecondUserName).Claims["name"] = "Bob Renamed";
        await Apply(document);

        await factory.WithScopeAsync(async services =>
        {
            var applications = services.GetRequiredService<IOpenIddictApplicationManager>();
            var app = await applications.FindByClientIdAsync(TestSeed.WorkerClientId);
            Assert.Equal("Billing worker v2", await applications.GetDisplayNameAsync(app!));
            Assert.True(await applications.ValidateClientSecretAsync(app!, "rotated-secret-0123456789"));
            Assert.False(await applications.ValidateClientSecretAsync(app!, TestSeed.WorkerSecret));
            Assert.NotNull(await applications.FindByClientIdAsync("manual"));

            var users = services.GetRequiredService<UserManager<ApplicationUser>>();
            var bob = await users.FindByNameAsync(TestSeed.SecondUserName);
            Assert.Equal("Bob Renamed", Assert.Single(await users.GetClaimsAsync(bob!), c => c.Type == "name").Value);
            return 0;
        });

        await Apply(SeedLoader.Load(factory.SeedPath));
    }

    [Fact]
    public async Task Seed_ScopeAccessTokenClaims_AreStoredChangedAndRemovedWithTheSeed()
    {
        _ = factory.Server;
        // A property another tool set on the scope must survive the seed's changes.
        await factory.WithScopeAsync(async services =>
        {
            using var _ = IdentityServer.Authorization.LookupCache.Bypass();
            var scopes = services.GetRequiredService<IOpenIddictScopeManager>();
            var orders = await scopes.FindByNameAsync(TestSeed.ApiScope);
            var descriptor = new OpenIddictScopeDescriptor();
            await scopes.PopulateAsync(descriptor, orders!);
            descriptor.Properties["owner"] = System.Text.Json.JsonSerializer.SerializeToElement("team-a");
            await scopes.UpdateAsync(orders!, descriptor);
            return 0;
        });

        var document = SeedLoader.Load(factory.SeedPath);
        document.Scopes.Single(s => s.Name == TestSeed.ApiScope).AccessTokenClaims = ["role", "name", "role"];
        await Apply(document);
        Assert.Equal("""["name","role"]""", await StoredProperty(TestSeed.ApiScope, "access_token_claims"));
        Assert.Equal("\"team-a\"", await StoredProperty(TestSeed.ApiScope, "owner"));

        // Applying the same list again changes nothing.
        var before = await Snapshot();
        await Apply(document);
        Assert.Equal(before, await Snapshot());

        await Apply(SeedLoader.Load(factory.SeedPath));
        Assert.Null(await StoredProperty(TestSeed.ApiScope, "access_token_claims"));
        Assert.Equal("\"team-a\"", await StoredProperty(TestSeed.ApiScope, "owner"));
    }

    /// <summary>
    /// <c>Enabled: false</c> disables a client and revokes what it holds; a seed that leaves Enabled out
    /// keeps the state an administrator set; <c>Enabled: true</c> enables it again.
    /// </summary>
    [Fact]
    public async Task Seed_Enabled_DisablesAndRevokes_LeftOutKeepsTheState_TrueEnables()
    {
        using var client = factory.CreateOidcClient();
        var issued = await client.TokenAsync(("grant_type", "client_credentials"), ("client_id", TestSeed.WorkerClientId), ("client_secret", TestSeed.WorkerSecret), ("scope", TestSeed.ApiScope));
        Assert.Equal(System.Net.HttpStatusCode.OK, issued.Status);
        var document = SeedLoader.Load(factory.SeedPath);
        var worker = document.Clients.Single(c => c.ClientId == TestSeed.WorkerClientId);

        worker.Enabled = false;
        await Apply(document);

        Assert.Equal("invalid_client", (await WorkerTokenAsync(client)).Error);
        Assert.Equal("false", (await client.IntrospectAsync(issued["access_token"]!))["active"]);

        worker.Enabled = null;
        await Apply(document);
        Assert.Equal("invalid_client", (await WorkerTokenAsync(client)).Error);

        worker.Enabled = true;
        await Apply(document);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await WorkerTokenAsync(client)).Status);
    }

    private static Task<TokenResponse> WorkerTokenAsync(OidcTestClient client) =>
        client.TokenAsync(("grant_type", "client_credentials"), ("client_id", TestSeed.WorkerClientId), ("client_secret", TestSeed.WorkerSecret));

    [Fact]
    public async Task Seed_BuiltInAdminScope_AsksForTheRoleClaim()
    {
        _ = factory.Server;
        Assert.Equal("""["role"]""", await StoredProperty("idp.admin", "access_token_claims"));
    }

    private Task<string?> StoredProperty(string scope, string name) => factory.WithScopeAsync(async services =>
    {
        using var _ = IdentityServer.Authorization.LookupCache.Bypass();
        var scopes = services.GetRequiredService<IOpenIddictScopeManager>();
        var properties = await scopes.GetPropertiesAsync((await scopes.FindByNameAsync(scope))!);
        return properties.TryGetValue(name, out var value) ? value.GetRawText() : null;
    });

    private Task<int> Apply(SeedDocument document) => factory.WithScopeAsync(async services =>
    {
        await services.GetRequiredService<Seeder>().ApplyAsync(document, "test", CancellationToken.None);
        return 0;
    });

    private Task<string> Snapshot() => factory.WithScopeAsync(async services =>
    {
        var context = services.GetRequiredService<ApplicationDbContext>();
        var apps = await context.Set<OpenIddictEntityFrameworkCoreApplication>().OrderBy(a => a.ClientId)
            .Select(a => a.ClientId + a.ConcurrencyToken + a.ClientSecret + a.Permissions).ToListAsync();
        var scopes = await context.Set<OpenIddictEntityFrameworkCoreScope>().OrderBy(s => s.Name).Select(s => s.Name + s.ConcurrencyToken).ToListAsync();
        var users = await context.Users.OrderBy(u => u.UserName).Select(u => u.UserName + u.ConcurrencyStamp + u.PasswordHash).ToListAsync();
        return string.Join('|', apps.Concat(scopes).Concat(users));
    });
}
