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
/// Each connection also commits with <c>synchronous = FULL</c>, set here rather than left to the SQLite
/// library's compile-time default: in WAL mode every commit then waits for an fsync of the WAL, so a
/// token the server has answered with survives a power loss, not only a crash of the process.
/// </summary>
internal sealed class SqliteWriteGate : DbConnectionInterceptor, IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);

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
    private static readonly ConditionalWeakTable<object, object> Configured = new();
    private static readonly object ConfiguredMarker = new();

    private static void Configure(DbConnection connection)
    {
        var handle = (connection as SqliteConnection)?.Handle;
        var first = handle is null || !Configured.TryGetValue(handle, out _);
        using (var command = connection.CreateCommand())
        {
            // busy_timeout: SQLite's own busy handler backs off in milliseconds, not 150 ms steps.
            // mmap_size: pages are read through the OS page cache shared by every pooled connection
            // rather than copied into each one's private cache. synchronous: the durability promise
            // (see the class comment); the bundled library's default is also FULL, but a library built
            // with another default, or a caller that changed it, would silently weaken it.
            command.CommandText = first
                ? "PRAGMA busy_timeout = 30000; PRAGMA mmap_size = 268435456; PRAGMA synchronous = FULL;"
                : "PRAGMA synchronous = FULL;";
            command.ExecuteNonQuery();
        }
        if (first && handle is not null)
        {
            Configured.AddOrUpdate(handle, ConfiguredMarker);
        }
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
