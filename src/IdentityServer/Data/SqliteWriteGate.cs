using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace IdentityServer.Data;

/// <summary>
/// SQLite has one writer at a time. Two requests writing at once make the second fail with
/// SQLITE_BUSY, which Microsoft.Data.Sqlite retries after sleeping 150 ms: under load most of a
/// token request's time went there. This gate queues writers inside the process instead (an async
/// FIFO semaphore around SaveChanges), so a write waits only for the write
/// before it. A busy timeout on each connection covers writes that bypass the gate (bulk updates and
/// explicit transactions, which are rare: pruning, revoking a grant, migrations).
/// </summary>
internal sealed class SqliteWriteGate : DbConnectionInterceptor, ISaveChangesInterceptor, IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly ConditionalWeakTable<DbContext, Holder> holders = [];

    private sealed class Holder
    {
        public bool Held;
    }

    public void Dispose() => gate.Dispose();

    // ---- connections: SQLite's own busy handler backs off in milliseconds, not 150 ms steps.
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => SetBusyTimeout(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        SetBusyTimeout(connection);
        return Task.CompletedTask;
    }

    private static void SetBusyTimeout(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA busy_timeout = 30000;";
        command.ExecuteNonQuery();
    }

    // ---- SaveChanges
    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Enter(eventData.Context, CancellationToken.None).GetAwaiter().GetResult();
        return result;
    }

    public async ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        await Enter(eventData.Context, cancellationToken);
        return result;
    }

    public int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Exit(eventData.Context);
        return result;
    }

    public ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Exit(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public void SaveChangesFailed(DbContextErrorEventData eventData) => Exit(eventData.Context);

    public Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Exit(eventData.Context);
        return Task.CompletedTask;
    }

    public void SaveChangesCanceled(DbContextEventData eventData) => Exit(eventData.Context);

    public Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        Exit(eventData.Context);
        return Task.CompletedTask;
    }

    // SaveChanges inside an explicit transaction is not gated: the transaction already holds SQLite's
    // write lock (Microsoft.Data.Sqlite begins IMMEDIATE), and waiting for the gate while holding it
    // could stall the writer that holds the gate until the busy timeout.
    private async Task Enter(DbContext? context, CancellationToken cancellationToken)
    {
        if (context is null || context.Database.CurrentTransaction is not null)
        {
            return;
        }
        var holder = holders.GetOrCreateValue(context);
        await gate.WaitAsync(cancellationToken);
        holder.Held = true;
    }

    private void Exit(DbContext? context)
    {
        if (context is not null && holders.TryGetValue(context, out var holder) && holder.Held)
        {
            holder.Held = false;
            gate.Release();
        }
    }
}
