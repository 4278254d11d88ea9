using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Seeding;

public sealed class StorageTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task Database_FirstStart_AppliesAllMigrationsOfTheConfiguredProvider()
    {
        _ = factory.Server;
        var (provider, applied, pending, all) = await factory.WithScopeAsync(async services =>
        {
            var context = services.GetRequiredService<ApplicationDbContext>();
            return (context.Database.ProviderName, (await context.Database.GetAppliedMigrationsAsync()).Count(),
                (await context.Database.GetPendingMigrationsAsync()).Count(), context.Database.GetMigrations().Count());
        });
        Assert.Equal(IdentityServerFactory.Provider == TestDatabaseProvider.Postgres
            ? "Npgsql.EntityFrameworkCore.PostgreSQL" : "Microsoft.EntityFrameworkCore.Sqlite", provider);
        Assert.Equal(0, pending);
        Assert.Equal(all, applied);
        Assert.True(all > 0);
    }

    [Fact]
    public async Task Database_FirstStart_SqliteIsAFileInWalModeAndPostgresHasNoFile()
    {
        _ = factory.Server;
        if (IdentityServerFactory.Provider == TestDatabaseProvider.Postgres)
        {
            // The SQLite specifics (file, WAL) must not leak into a PostgreSQL deployment.
            Assert.False(File.Exists(factory.DatabasePath));
            return;
        }
        Assert.True(File.Exists(factory.DatabasePath));
        var mode = await factory.WithScopeAsync(async services =>
        {
            var context = services.GetRequiredService<ApplicationDbContext>();
            var connection = context.Database.GetDbConnection();
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode;";
            return (string?)await command.ExecuteScalarAsync();
        });
        Assert.Equal("wal", mode);
    }
}
