using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace IdentityServer.Data;

/// <summary>
/// SQLite has one writer at a time. Two requests writing at once make the second fail with
/// SQLITE_BUSY, which Microsoft.Data.Sqlite retries after sleeping 150 ms: under load most of a
/// token request's time went there. This gate queues writers inside the process instead (an async
/// FIFO semaphore that <see cref="ApplicationDbContext"/> takes around SaveChanges, with try/finally),
/// so a write waits only for the write before it. A busy timeout on each connection covers writes that bypass the gate (bulk updates and
/// explicit transactions, which are rare: pruning, revoking a grant, migrations).
/// Durability: a file database in WAL mode commits with <c>synchronous = NORMAL</c> and every commit
/// then waits for a group fsync of the write-ahead log (<see cref="WalFlusher"/>) before its caller
/// goes on: after the gate is released for the writes that pass through it, at once for the others.
/// Anything else (a database not in WAL mode, an in-memory one) commits with <c>synchronous = FULL</c>.
/// Either way a token the server has answered with survives a power loss, not only a crash of the
/// process. The setting is made on every connection rather than left to the SQLite library's
/// compile-time default.
/// </summary>
internal sealed class SqliteWriteGate(WalFlusher? flusher) : DbConnectionInterceptor, IDbCommandInterceptor, IDbTransactionInterceptor, IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);

    /// <summary>Set while a gated write runs: its commit waits for the disk after the gate is released.</summary>
    private static readonly AsyncLocal<bool> DurabilityDeferred = new();

    public void Dispose() => gate.Dispose();

    // ---- connections: settings that belong to a connection, not to the file, so every open sets them.
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Configure(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Configure(connection);
        return Task.CompletedTask;
    }

    // busy_timeout and mmap_size live on the native connection, which Microsoft.Data.Sqlite pools and
    // hands out again on the next Open: they are set once per native connection. (Setting mmap_size
    // again unmaps and remaps the database file even when the value is unchanged, which costs a TLB
    // flush on every core and a page fault per page read afterwards.) synchronous is cheap to set and is
    // the durability promise, so it is set at every Open, whatever a previous user of the pooled
    // connection left behind.
    private static readonly ConditionalWeakTable<object, string> Configured = new();

    private void Configure(DbConnection connection)
    {
        var handle = (connection as SqliteConnection)?.Handle;
        string? synchronous = null;
        if (handle is null || !Configured.TryGetValue(handle, out synchronous))
        {
            using var first = connection.CreateCommand();
            // busy_timeout: SQLite's own busy handler backs off in milliseconds, not 150 ms steps.
            // mmap_size: pages are read through the OS page cache shared by every pooled connection
            // rather than copied into each one's private cache.
            first.CommandText = "PRAGMA busy_timeout = 30000; PRAGMA mmap_size = 268435456;";
            first.ExecuteNonQuery();
            first.CommandText = "PRAGMA journal_mode;";
            var journal = first.ExecuteScalar() as string;
            // NORMAL only where the group fsync covers it: WAL mode on a file this process syncs.
            synchronous = flusher is not null && string.Equals(journal, "wal", StringComparison.OrdinalIgnoreCase)
                ? "PRAGMA synchronous = NORMAL;"
                : "PRAGMA synchronous = FULL;";
            if (handle is not null)
            {
                Configured.AddOrUpdate(handle, synchronous);
            }
        }
        using var command = connection.CreateCommand();
        command.CommandText = synchronous;
        command.ExecuteNonQuery();
    }

    // ---- durability of commits made outside the gate (bulk updates, explicit transactions, migrations).
    int IDbCommandInterceptor.NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        if (command.Transaction is null && result > 0 && !DurabilityDeferred.Value)
        {
            flusher?.Flush();
        }
        return result;
    }

    async ValueTask<int> IDbCommandInterceptor.NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken)
    {
        if (command.Transaction is null && result > 0 && !DurabilityDeferred.Value && flusher is not null)
        {
            await flusher.FlushAsync();
        }
        return result;
    }

    void IDbTransactionInterceptor.TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData)
    {
        if (!DurabilityDeferred.Value)
        {
            flusher?.Flush();
        }
    }

    async Task IDbTransactionInterceptor.TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken)
    {
        if (!DurabilityDeferred.Value && flusher is not null)
        {
            await flusher.FlushAsync();
        }
    }

    /// <summary>
    /// Runs a write inside the gate; its commit is made durable after the gate is released, so that
    /// the next writer need not wait for this one's fsync (and may share it).
    /// </summary>
    public async Task<T> WriteAsync<T>(Func<Task<T>> write, Func<T, bool> committed, CancellationToken cancellationToken)
    {
        T result;
        using (await EnterAsync(cancellationToken))
        {
            var outer = DurabilityDeferred.Value;
            DurabilityDeferred.Value = true;
            try
            {
                result = await write();
            }
            finally
            {
                DurabilityDeferred.Value = outer;
            }
        }
        if (committed(result) && flusher is not null)
        {
            await flusher.FlushAsync();
        }
        return result;
    }

    /// <summary>The synchronous form of <see cref="WriteAsync{T}"/>.</summary>
    public T Write<T>(Func<T> write, Func<T, bool> committed)
    {
        T result;
        using (Enter())
        {
            var outer = DurabilityDeferred.Value;
            DurabilityDeferred.Value = true;
            try
            {
                result = write();
            }
            finally
            {
                DurabilityDeferred.Value = outer;
            }
        }
        if (committed(result))
        {
            flusher?.Flush();
        }
        return result;
    }

    /// <summary>Waits for the write before this one; dispose the result to let the next one in.</summary>
    public async ValueTask<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        return new Releaser(gate);
    }

    public IDisposable Enter()
    {
        gate.Wait();
        return new Releaser(gate);
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
