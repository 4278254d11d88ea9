using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Data.Sqlite;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Database;

/// <summary>
/// On SQLite every write of the server queues for one turn of the single writer inside the process,
/// whatever its shape (SaveChanges, an explicit transaction, a bulk update outside one), without the
/// feature that writes knowing about it; nested writes ride on the outer turn, and a write that fails
/// (an error, a lost concurrency check, a BEGIN that gives up) or is abandoned lets the next one in. Each committed write waits for the group fsync.
/// </summary>
public sealed class SqliteWriteGateTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task SqliteWriteGate_EachShapeOfWrite_TakesOneTurnAndWaitsForTheDisk()
    {
        if (!OnSqlite())
        {
            return; // PostgreSQL has many writers: no gate, no group fsync of ours.
        }
        var (gate, flusher) = Mechanisms();
        var marker = "gate " + Guid.NewGuid();

        // SaveChanges with one row (no transaction of EF Core's own).
        var (turns, waits) = (gate.Turns, flusher.Statistics.Waits);
        await WriteAsync(async database =>
        {
            database.SecurityEvents.Add(NewEvent(marker));
            await database.SaveChangesAsync();
        });
        Assert.Equal((turns + 1, waits + 1), (gate.Turns, flusher.Statistics.Waits));

        // A bulk update outside a transaction, as sessions, lockout and pruning make them.
        (turns, waits) = (gate.Turns, flusher.Statistics.Waits);
        await ReadBackAsync(database => database.SecurityEvents.Where(e => e.Detail == marker)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.Actor, "bulk")));
        Assert.Equal((turns + 1, waits + 1), (gate.Turns, flusher.Statistics.Waits));

        // A transaction with a bulk update and a SaveChanges of several rows inside: one turn, one wait.
        (turns, waits) = (gate.Turns, flusher.Statistics.Waits);
        await ReadBackAsync(database => database.WriteInTransactionAsync(async token =>
        {
            await database.SecurityEvents.Where(e => e.Detail == marker)
                .ExecuteUpdateAsync(s => s.SetProperty(e => e.Actor, "in a transaction"), token);
            database.SecurityEvents.AddRange(NewEvent(marker), NewEvent(marker));
            return await database.SaveChangesAsync(token);
        }, CancellationToken.None));
        Assert.Equal((turns + 1, waits + 1), (gate.Turns, flusher.Statistics.Waits));

        // Reads take no turn.
        turns = gate.Turns;
        var count = await factory.WithScopeAsync(services =>
            services.GetRequiredService<ApplicationDbContext>().SecurityEvents.CountAsync(e => e.Detail == marker));
        Assert.Equal(3, count);
        Assert.Equal(turns, gate.Turns);
    }

    [Fact]
    public async Task SqliteWriteGate_WhileOneWriteHoldsTheTurn_OthersQueueAndGoOnAfterIt()
    {
        if (!OnSqlite())
        {
            return;
        }
        var marker = "queue " + Guid.NewGuid();
        await using var holder = factory.Services.CreateAsyncScope();
        var first = holder.ServiceProvider.GetRequiredService<ApplicationDbContext>();
        var transaction = await first.Database.BeginTransactionAsync();
        first.SecurityEvents.Add(NewEvent(marker));
        await first.SaveChangesAsync();

        var second = WriteAsync(async database =>
        {
            database.SecurityEvents.Add(NewEvent(marker));
            await database.SaveChangesAsync();
        });
        var third = ReadBackAsync(database => database.SecurityEvents.Where(e => e.Detail == marker).ExecuteDeleteAsync());
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.False(second.IsCompleted, "A SaveChanges went in while another write held the turn.");
        Assert.False(third.IsCompleted, "A bulk delete went in while another write held the turn.");

        await transaction.CommitAsync();
        await transaction.DisposeAsync();
        await Task.WhenAll(second, third);
    }

    [Fact]
    public async Task SqliteWriteGate_AbandonedTransactionFailedOrLosingSave_LetTheNextWriteIn()
    {
        if (!OnSqlite())
        {
            return;
        }
        var marker = "abandoned " + Guid.NewGuid();
        // A transaction disposed without commit or rollback (an exception between the two).
        await WriteAsync(async database =>
        {
            await using var transaction = await database.Database.BeginTransactionAsync();
            database.SecurityEvents.Add(NewEvent(marker));
            await database.SaveChangesAsync();
        });
        // A SaveChanges that fails (the same key twice).
        var id = await ReadBackAsync(async database =>
        {
            var entry = NewEvent(marker);
            database.SecurityEvents.Add(entry);
            await database.SaveChangesAsync();
            return entry.Id;
        });
        await Assert.ThrowsAsync<DbUpdateException>(() => WriteAsync(async database =>
        {
            database.SecurityEvents.Add(new SecurityEvent { Id = id, Timestamp = DateTimeOffset.UtcNow, Type = SecurityEventTypes.SignInSucceeded });
            await database.SaveChangesAsync();
        }));

        // A SaveChanges that cannot start: change detection finds a key changed on a tracked row.
        await Assert.ThrowsAsync<InvalidOperationException>(() => WriteAsync(async database =>
        {
            var tracked = await database.SecurityEvents.FirstAsync(e => e.Id == id);
            typeof(SecurityEvent).GetProperty(nameof(SecurityEvent.Id))!.SetValue(tracked, id + 1_000_000);
            await database.SaveChangesAsync();
        }));

        // A SaveChanges that loses on concurrency (the row it deletes is gone).
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => WriteAsync(async database =>
        {
            database.SecurityEvents.Remove(new SecurityEvent { Id = -id, Timestamp = DateTimeOffset.UtcNow, Type = SecurityEventTypes.SignInSucceeded });
            await database.SaveChangesAsync();
        }));

        // The next write goes in, and only the committed row is there.
        await WriteAsync(async database =>
        {
            database.SecurityEvents.Add(NewEvent(marker));
            await database.SaveChangesAsync();
        });
        Assert.Equal(2, await factory.WithScopeAsync(services =>
            services.GetRequiredService<ApplicationDbContext>().SecurityEvents.CountAsync(e => e.Detail == marker)));
    }

    [Fact]
    public async Task SqliteWriteGate_BeginThatFails_GivesTheTurnBack()
    {
        if (!OnSqlite())
        {
            return;
        }
        // Another process holds SQLite's write lock.
        await using var other = new SqliteConnection($"Data Source={factory.DatabasePath};Pooling=False");
        await other.OpenAsync();
        await using var lockCommand = other.CreateCommand();
        lockCommand.CommandText = "BEGIN IMMEDIATE;";
        await lockCommand.ExecuteNonQueryAsync();

        await using var scope = factory.Services.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<ApplicationDbContext>();
        await database.Database.OpenConnectionAsync();
        var connection = (SqliteConnection)database.Database.GetDbConnection();
        var timeout = connection.DefaultTimeout;
        await SetBusyTimeoutAsync(connection, 100);
        connection.DefaultTimeout = 1;
        try
        {
            // BEGIN IMMEDIATE gives up: EF Core reports no failure of its own for it.
            await Assert.ThrowsAsync<SqliteException>(() => database.Database.BeginTransactionAsync());

            lockCommand.CommandText = "ROLLBACK;";
            await lockCommand.ExecuteNonQueryAsync();
            // The context whose BEGIN failed is still open; another write goes in.
            await WriteAsync(async other =>
            {
                other.SecurityEvents.Add(NewEvent("after a failed begin"));
                await other.SaveChangesAsync();
            });
        }
        finally
        {
            connection.DefaultTimeout = timeout;
            await SetBusyTimeoutAsync(connection, 30_000);
        }
    }

    private static async Task SetBusyTimeoutAsync(SqliteConnection connection, int milliseconds)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA busy_timeout = {milliseconds};";
        await command.ExecuteNonQueryAsync();
    }

    private bool OnSqlite()
    {
        _ = factory.Server;
        return IdentityServerFactory.Provider == TestDatabaseProvider.Sqlite;
    }

    private (SqliteWriteGate Gate, WalFlusher Flusher) Mechanisms() =>
        (factory.Services.GetRequiredService<SqliteWriteGate>(), factory.Services.GetRequiredService<WalFlusher>());

    // Each write gives up after a while, so that a turn never given back fails the test instead of hanging it,
    // saying whether the turn or the disk was waited for.
    private Task<int> WriteAsync(Func<ApplicationDbContext, Task> write) =>
        PatientlyAsync(factory.WithScopeAsync(async services =>
        {
            await write(services.GetRequiredService<ApplicationDbContext>());
            return 0;
        }));

    private Task<T> ReadBackAsync<T>(Func<ApplicationDbContext, Task<T>> write) =>
        PatientlyAsync(factory.WithScopeAsync(services => write(services.GetRequiredService<ApplicationDbContext>())));

    private async Task<T> PatientlyAsync<T>(Task<T> write)
    {
        try
        {
            return await write.WaitAsync(Patience);
        }
        catch (TimeoutException)
        {
            var (gate, flusher) = Mechanisms();
            throw new TimeoutException($"A write did not end within {Patience}: the write gate is {gate.Describe()}; the WAL flusher: {flusher.Describe()}.");
        }
    }

    private static SecurityEvent NewEvent(string detail) =>
        new() { Timestamp = DateTimeOffset.UtcNow, Type = SecurityEventTypes.SignInSucceeded, Detail = detail };
}
