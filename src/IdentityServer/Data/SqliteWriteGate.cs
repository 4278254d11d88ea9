using System.Data.Common;
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

    private static void Configure(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        // busy_timeout: SQLite's own busy handler backs off in milliseconds, not 150 ms steps.
        // mmap_size: pages are read through the OS page cache shared by every pooled connection
        // rather than copied into each one's private cache. synchronous: the durability promise
        // (see the class comment); the bundled library's default is also FULL, so this costs nothing
        // today, but a library built with another default would silently weaken it.
        command.CommandText = "PRAGMA busy_timeout = 30000; PRAGMA mmap_size = 268435456; PRAGMA synchronous = FULL;";
        command.ExecuteNonQuery();
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
