using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace IdentityServer.Tests.Database;

/// <summary>
/// The data-protection keys protect refresh tokens and codes as well as cookies: every node must use
/// the same one. The first key is created at start-up, inside the start-up lock, so two nodes that
/// start together on an empty key store end up with one key, not one each.
/// ASP.NET Core's own data-protection hosted service also makes a key when the host starts, but after
/// the start-up lock is released, where two nodes race; it is removed here, so that only the server's
/// start-up step can have made the key these tests count.
/// </summary>
public sealed class DataProtectionKeyStartupTests
{
    private sealed class NodeWithoutKeyRingWarmUp : IdentityServerFactory
    {
        protected override void ConfigureTestServices(IWebHostBuilder builder) =>
            builder.ConfigureTestServices(static services =>
            {
                foreach (var hosted in services.Where(static d => d.ServiceType == typeof(IHostedService)
                    && d.ImplementationType?.Name == "DataProtectionHostedService").ToList())
                {
                    services.Remove(hosted);
                }
            });
    }

    [Fact]
    public async Task TwoNodesStartingTogether_OnAnEmptyKeyStore_CreateOneKey()
    {
        using var first = new NodeWithoutKeyRingWarmUp();
        using var second = new NodeWithoutKeyRingWarmUp();
        second.Settings["ConnectionStrings:Default"] = first.ConnectionString;
        if (IdentityServerFactory.Provider == TestDatabaseProvider.Sqlite)
        {
            // SQLite keeps its keys in a folder next to the database, which both instances share.
            second.Settings["DataProtection:KeysPath"] = first.Settings["DataProtection:KeysPath"];
        }

        // Both start at once; neither has answered a request.
        await Task.WhenAll(Task.Run(() => first.Server), Task.Run(() => second.Server));

        Assert.Equal(1, await CountKeysAsync(first));

        // A refresh token issued by one node is redeemed on the other.
        using var onFirst = first.CreateOidcClient();
        var tokens = await onFirst.CodeFlowAsync();
        using var onSecond = second.CreateOidcClient();
        var refreshed = await onSecond.RefreshAsync(tokens["refresh_token"]!);
        Assert.NotNull(refreshed["access_token"]);
        Assert.Equal(1, await CountKeysAsync(second));
    }

    private static async Task<int> CountKeysAsync(IdentityServerFactory node)
    {
        if (IdentityServerFactory.Provider == TestDatabaseProvider.Postgres)
        {
            return await node.WithScopeAsync(services =>
                services.GetRequiredService<ApplicationDbContext>().DataProtectionKeys.CountAsync());
        }
        return Directory.GetFiles(node.Settings["DataProtection:KeysPath"]!, "key-*.xml").Length;
    }
}
