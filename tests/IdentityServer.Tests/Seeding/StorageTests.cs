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

    [Fact]
    public async Task Database_SqliteConnection_CommitsWithSynchronousFull()
    {
        _ = factory.Server;
        if (IdentityServerFactory.Provider == TestDatabaseProvider.Postgres)
        {
            return; // PRAGMA is SQLite's; PostgreSQL's synchronous_commit is the server's setting.
        }
        var modes = await factory.WithScopeAsync(async services =>
        {
            var context = services.GetRequiredService<ApplicationDbContext>();
            var first = await ReadSynchronousAsync(context, weakenAfterwards: true);
            // Closed and opened again: the native connection comes back from Microsoft.Data.Sqlite's
            // pool with whatever the last user left, so the setting must be made at every open.
            var second = await ReadSynchronousAsync(context, weakenAfterwards: false);
            return (first, second);
        });
        // 2 = FULL: in WAL mode every commit waits for an fsync of the WAL (crash- and power-loss-safe).
        Assert.Equal((2L, 2L), modes);
    }

    private static async Task<long> ReadSynchronousAsync(ApplicationDbContext context, bool weakenAfterwards)
    {
        await context.Database.OpenConnectionAsync();
        try
        {
            await using var command = context.Database.GetDbConnection().CreateCommand();
            command.CommandText = "PRAGMA synchronous;";
            var mode = (long)(await command.ExecuteScalarAsync())!;
            if (weakenAfterwards)
            {
                command.CommandText = "PRAGMA synchronous = OFF;";
                await command.ExecuteNonQueryAsync();
            }
            return mode;
        }
        finally
        {
            await context.Database.CloseConnectionAsync();
        }
    }
}
