using IdentityServer.Data;
using IdentityServer.Data.Sqlite;
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
    public async Task Database_SqliteConnection_CommitsWithNormalAndWaitsForAnFsyncOfTheLog()
    {
        _ = factory.Server;
        if (IdentityServerFactory.Provider == TestDatabaseProvider.Postgres)
        {
            return; // PRAGMA is SQLite's; PostgreSQL's synchronous_commit is the server's setting.
        }
        // Native connections opened before the database was switched to WAL (the first start's
        // migration) commit with FULL; every connection opened on the WAL database uses NORMAL.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var modes = await factory.WithScopeAsync(async services =>
        {
            var context = services.GetRequiredService<ApplicationDbContext>();
            var first = await ReadSynchronousAsync(context, weakenAfterwards: true);
            // Closed and opened again: the native connection comes back from Microsoft.Data.Sqlite's
            // pool with whatever the last user left, so the setting must be made at every open.
            var second = await ReadSynchronousAsync(context, weakenAfterwards: false);
            return (first, second);
        });
        // 1 = NORMAL: a commit writes the log without waiting for the disk ...
        Assert.Equal((1L, 1L), modes);

        // ... and SaveChanges returns only after an fsync of the log that started after the commit.
        var flusher = factory.Services.GetRequiredService<WalFlusher>();
        var before = flusher.Statistics;
        await factory.WithScopeAsync(async services =>
        {
            var audit = services.GetRequiredService<IdentityServer.Audit.AuditLog>();
            audit.Add(IdentityServer.Audit.SecurityEventTypes.SignInSucceeded, detail: "durability test");
            await audit.SaveAsync(CancellationToken.None);
            return 0;
        });
        var after = flusher.Statistics;
        Assert.True(after.Waits > before.Waits, "The commit did not wait for the log to reach the disk.");
        Assert.True(after.Flushes > before.Flushes, "No fsync of the log ran after the commit.");
    }

    [Fact]
    public async Task Database_SqliteConcurrentCommits_EachWaitsAndFsyncsAreShared()
    {
        _ = factory.Server;
        if (IdentityServerFactory.Provider == TestDatabaseProvider.Postgres)
        {
            return;
        }
        var flusher = factory.Services.GetRequiredService<WalFlusher>();
        var before = flusher.Statistics;
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => factory.WithScopeAsync(async services =>
        {
            var audit = services.GetRequiredService<IdentityServer.Audit.AuditLog>();
            audit.Add(IdentityServer.Audit.SecurityEventTypes.SignInSucceeded, detail: "group commit " + i);
            await audit.SaveAsync(CancellationToken.None);
            return 0;
        })));
        var after = flusher.Statistics;
        Assert.Equal(40, after.Waits - before.Waits);
        // Commits that finish while an fsync runs share the next one, so there are never more fsyncs than commits.
        Assert.InRange(after.Flushes - before.Flushes, 1, 40);
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
