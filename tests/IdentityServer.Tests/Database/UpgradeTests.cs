using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Database;

public sealed class UpgradeTests
{
    [Fact]
    public async Task Startup_DatabaseOneMigrationBehind_AppliesTheRest()
    {
        using var factory = new IdentityServerFactory();
        await using (var old = OpenContext(factory))
        {
            // As a server of the previous release left it: everything but the newest migration.
            var migrations = old.Database.GetMigrations().ToList();
            var target = migrations.Count >= 2 ? migrations[^2] : Migration.InitialDatabase;
            await old.GetService<IMigrator>().MigrateAsync(target);
            Assert.Single(await old.Database.GetPendingMigrationsAsync());
        }

        _ = factory.Server;

        var pending = await factory.WithScopeAsync(async services =>
            (await services.GetRequiredService<ApplicationDbContext>().Database.GetPendingMigrationsAsync()).Count());
        Assert.Equal(0, pending);
    }

    /// <summary>A context on the factory's database, outside the host (which would migrate it at start).</summary>
    private static ApplicationDbContext OpenContext(IdentityServerFactory factory) =>
        IdentityServerFactory.Provider == TestDatabaseProvider.Postgres
            ? new PostgresApplicationDbContext(new DbContextOptionsBuilder<PostgresApplicationDbContext>()
                .UseNpgsql(factory.ConnectionString).UseOpenIddict().Options)
            : new ApplicationDbContext(new DbContextOptionsBuilder<ApplicationDbContext>()
                .UseSqlite(factory.ConnectionString).UseOpenIddict().Options);
}
