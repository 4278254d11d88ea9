using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace IdentityServer.Data.Sqlite;

/// <summary>
/// Everything this server does to make SQLite fast and durable under concurrent writes, as one EF Core
/// interceptor: no feature calls it, each write of any <see cref="DbContext"/> using it passes through.
/// <list type="bullet">
/// <item><b>Write gate.</b> SQLite has one writer at a time; a second writer gets SQLITE_BUSY and
/// sleeps in SQLite's busy handler. Here writers queue in the process instead (an async FIFO
/// semaphore): a write takes its turn when it starts (SaveChanges, a transaction, or a bulk
/// ExecuteUpdate/ExecuteDelete outside one) and lets the next in when it ends; the writes nested in
/// it (the transaction of a SaveChanges, the statements of a transaction) ride on its turn. A turn
/// never given back would stop every write, so every ending gives it back, including the ones EF Core
/// reports apart or not at all (a lost concurrency check, a failed BEGIN, a dropped transaction).
/// Measured without it (both with plain <c>synchronous = FULL</c>, 64 connections, 2 vCPU):
/// client_credentials 0.64–0.95 and refresh 0.86–0.97 of the rate with it.</item>
/// <item><b>Group commit.</b> A file database in WAL mode commits with <c>synchronous = NORMAL</c> and
/// every commit then waits, after the gate is released, for an fsync of the write-ahead log by
/// <see cref="WalFlusher"/>, shared by the commits that wait together. The promise is
/// <c>synchronous = FULL</c>'s (an answered token survives a power loss), with the fsync out of the
/// write lock. Measured against FULL with the gate: client_credentials +11–28 %, refresh +21–28 %
/// (on a disk whose fsync takes 0.2 ms; a slower disk gains more).</item>
/// <item><b>Connection settings.</b> A busy timeout for writers of other processes or outside any
/// context; <c>synchronous</c> at every open, so that no pooled connection keeps a weaker setting
/// (setting it once per native connection instead was not faster). No memory-mapped I/O: with
/// <c>mmap_size</c> set, refresh measured 0.61–0.76 of its rate without it (most likely: the file
/// grows with every token, and each growth remaps it in every pooled connection).</item>
/// </list>
/// Anything but WAL on a file (an in-memory database) commits with <c>synchronous = FULL</c>.
/// </summary>
internal sealed class SqliteWriteGate(WalFlusher? flusher)
    : DbConnectionInterceptor, ISaveChangesInterceptor, IDbTransactionInterceptor, IDbCommandInterceptor, IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);

    /// <summary>
    /// The write holding the turn of each context: the context itself for a SaveChanges, the
    /// transaction's id, or a bulk command's id.
    /// </summary>
    private readonly ConditionalWeakTable<DbContext, Turn> turns = new();

    private long taken;

    /// <summary>How many turns writers have taken (for tests and diagnosis).</summary>
    public long Turns => Interlocked.Read(ref taken);

    public void Dispose() => gate.Dispose();

    /// <summary>Who holds the turn, if anyone: a context's type and the kind of write (for diagnosis of a stalled write).</summary>
    public string Describe()
    {
        var holders = turns.Where(static pair => pair.Value.Write is not null)
            .Select(static pair => $"{pair.Key.GetType().Name} ({pair.Value.Write switch { DbContext => "SaveChanges", Guid => "transaction or command", _ => "write" }})")
            .ToList();
        return gate.CurrentCount > 0 ? "free" : holders.Count == 0 ? "taken, by no tracked context" : "taken by " + string.Join(", ", holders);
    }

    // ---- SaveChanges: one turn for the whole unit of work (and the transaction EF Core opens for it).
    ValueTask<InterceptionResult<int>> ISaveChangesInterceptor.SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken) =>
        EnterAsync(DetectChangesFirst(eventData.Context), eventData.Context, result, cancellationToken);

    InterceptionResult<int> ISaveChangesInterceptor.SavingChanges(DbContextEventData eventData, InterceptionResult<int> result) =>
        Enter(DetectChangesFirst(eventData.Context), eventData.Context, result);

    // EF Core detects changes after this event, outside the try that reports a failed save: an error
    // there (two instances with one key) would keep the turn. Detected here, it fails before the turn.
    private static DbContext? DetectChangesFirst(DbContext? context)
    {
        if (context?.ChangeTracker.AutoDetectChangesEnabled == true)
        {
            context.ChangeTracker.DetectChanges();
        }
        return context;
    }

    async ValueTask<int> ISaveChangesInterceptor.SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken)
    {
        await LeaveAsync(eventData.Context, eventData.Context, committed: result > 0);
        return result;
    }

    int ISaveChangesInterceptor.SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Leave(eventData.Context, eventData.Context, committed: result > 0);
        return result;
    }

    Task ISaveChangesInterceptor.SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken) =>
        LeaveAsync(eventData.Context, eventData.Context, committed: false).AsTask();

    void ISaveChangesInterceptor.SaveChangesFailed(DbContextErrorEventData eventData) => Leave(eventData.Context, eventData.Context, committed: false);

    // A concurrency failure (a row changed or gone since it was read) is reported here, not as a failed save.
    ValueTask<InterceptionResult> ISaveChangesInterceptor.ThrowingConcurrencyExceptionAsync(ConcurrencyExceptionEventData eventData, InterceptionResult result, CancellationToken cancellationToken) =>
        ValueTask.FromResult(LeaveLosingSave(eventData.Context, result));

    InterceptionResult ISaveChangesInterceptor.ThrowingConcurrencyException(ConcurrencyExceptionEventData eventData, InterceptionResult result) =>
        LeaveLosingSave(eventData.Context, result);

    Task ISaveChangesInterceptor.SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken) =>
        LeaveAsync(eventData.Context, eventData.Context, committed: false).AsTask();

    void ISaveChangesInterceptor.SaveChangesCanceled(DbContextEventData eventData) => Leave(eventData.Context, eventData.Context, committed: false);

    // ---- explicit transactions: the turn is taken before BEGIN IMMEDIATE takes SQLite's write lock.
    // EF Core reports no error when BEGIN itself fails (SQLITE_BUSY from another process past the busy
    // timeout), so the transaction is begun here, inside the turn, and a failure gives the turn back.
    async ValueTask<InterceptionResult<DbTransaction>> IDbTransactionInterceptor.TransactionStartingAsync(DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result, CancellationToken cancellationToken)
    {
        await EnterAsync(eventData.Context, eventData.TransactionId, result, cancellationToken);
        try
        {
            return InterceptionResult<DbTransaction>.SuppressWithResult(await connection.BeginTransactionAsync(eventData.IsolationLevel, cancellationToken));
        }
        catch
        {
            Release(eventData.Context, eventData.TransactionId);
            throw;
        }
    }

    InterceptionResult<DbTransaction> IDbTransactionInterceptor.TransactionStarting(DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result)
    {
        Enter(eventData.Context, eventData.TransactionId, result);
        try
        {
            return InterceptionResult<DbTransaction>.SuppressWithResult(connection.BeginTransaction(eventData.IsolationLevel));
        }
        catch
        {
            Release(eventData.Context, eventData.TransactionId);
            throw;
        }
    }

    Task IDbTransactionInterceptor.TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken) =>
        LeaveAsync(eventData.Context, eventData.TransactionId, committed: true).AsTask();

    void IDbTransactionInterceptor.TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Leave(eventData.Context, eventData.TransactionId, committed: true);

    Task IDbTransactionInterceptor.TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken) =>
        LeaveAsync(eventData.Context, eventData.TransactionId, committed: false).AsTask();

    void IDbTransactionInterceptor.TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Leave(eventData.Context, eventData.TransactionId, committed: false);

    Task IDbTransactionInterceptor.TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken) =>
        LeaveAsync(eventData.Context, eventData.TransactionId, committed: false).AsTask();

    void IDbTransactionInterceptor.TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => Leave(eventData.Context, eventData.TransactionId, committed: false);

    // A transaction disposed without commit or rollback (an exception in between) rolls back when its
    // connection closes; its turn ends there.
    public override InterceptionResult ConnectionClosing(DbConnection connection, ConnectionEventData eventData, InterceptionResult result) =>
        LeaveUnfinishedTransaction(eventData.Context, result);

    public override ValueTask<InterceptionResult> ConnectionClosingAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result) =>
        ValueTask.FromResult(LeaveUnfinishedTransaction(eventData.Context, result));

    // ---- bulk updates and deletes outside a transaction (ExecuteUpdate, ExecuteDelete): a turn per statement.
    ValueTask<InterceptionResult<int>> IDbCommandInterceptor.NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken) =>
        command.Transaction is null ? EnterAsync(eventData.Context, eventData.CommandId, result, cancellationToken) : ValueTask.FromResult(result);

    InterceptionResult<int> IDbCommandInterceptor.NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result) =>
        command.Transaction is null ? Enter(eventData.Context, eventData.CommandId, result) : result;

    async ValueTask<int> IDbCommandInterceptor.NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken)
    {
        if (command.Transaction is null)
        {
            await LeaveAsync(eventData.Context, eventData.CommandId, committed: result > 0);
        }
        return result;
    }

    int IDbCommandInterceptor.NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        if (command.Transaction is null)
        {
            Leave(eventData.Context, eventData.CommandId, committed: result > 0);
        }
        return result;
    }

    Task IDbCommandInterceptor.CommandFailedAsync(DbCommand command, CommandErrorEventData eventData, CancellationToken cancellationToken) =>
        LeaveAsync(eventData.Context, eventData.CommandId, committed: false).AsTask();

    void IDbCommandInterceptor.CommandFailed(DbCommand command, CommandErrorEventData eventData) => Leave(eventData.Context, eventData.CommandId, committed: false);

    Task IDbCommandInterceptor.CommandCanceledAsync(DbCommand command, CommandEndEventData eventData, CancellationToken cancellationToken) =>
        LeaveAsync(eventData.Context, eventData.CommandId, committed: false).AsTask();

    void IDbCommandInterceptor.CommandCanceled(DbCommand command, CommandEndEventData eventData) => Leave(eventData.Context, eventData.CommandId, committed: false);

    // ---- turns
    private async ValueTask<T> EnterAsync<T>(DbContext? context, object? write, T result, CancellationToken cancellationToken)
    {
        if (Waiting(context) is { } turn)
        {
            await gate.WaitAsync(cancellationToken);
            Interlocked.Increment(ref taken);
            turn.Write = write;
        }
        return result;
    }

    private T Enter<T>(DbContext? context, object? write, T result)
    {
        if (Waiting(context) is { } turn)
        {
            gate.Wait();
            Interlocked.Increment(ref taken);
            turn.Write = write;
        }
        return result;
    }

    /// <summary>The context's turn if this write must wait for one (no write of the context holds it yet).</summary>
    private Turn? Waiting(DbContext? context) => context is not null && turns.GetOrCreateValue(context) is { Write: null } turn ? turn : null;

    /// <summary>
    /// Ends a write. If it held its context's turn, the next writer goes in; then, if it committed,
    /// it waits until its commit is on disk. A write nested in another leaves both to the outer one.
    /// </summary>
    private async ValueTask LeaveAsync(DbContext? context, object? write, bool committed)
    {
        if (Release(context, write) && committed && flusher is not null)
        {
            await flusher.FlushAsync();
        }
    }

    private void Leave(DbContext? context, object? write, bool committed) => LeaveAsync(context, write, committed).AsTask().GetAwaiter().GetResult();

    private bool Release(DbContext? context, object? write)
    {
        if (context is null || !turns.TryGetValue(context, out var turn) || turn.Write is null)
        {
            return true; // a write outside any turn (no context): durable on its own
        }
        if (!Equals(turn.Write, write))
        {
            return false;
        }
        turn.Write = null;
        gate.Release();
        return true;
    }

    private T LeaveLosingSave<T>(DbContext? context, T result)
    {
        Release(context, context);
        return result;
    }

    private T LeaveUnfinishedTransaction<T>(DbContext? context, T result)
    {
        if (context is not null && turns.TryGetValue(context, out var turn) && turn.Write is Guid transaction
            && context.Database.CurrentTransaction?.TransactionId != transaction)
        {
            Release(context, transaction);
        }
        return result;
    }

    private sealed class Turn
    {
        public object? Write { get; set; }
    }

    // ---- connection settings: they belong to a connection, not to the file, so every open makes them.
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Configure(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Configure(connection);
        return Task.CompletedTask;
    }

    // busy_timeout lives on the native connection, which Microsoft.Data.Sqlite pools and hands out
    // again on the next Open: it is set once per native connection. synchronous is the durability
    // promise, so it is set at every Open, whatever a previous user left behind.
    private static readonly ConditionalWeakTable<object, string> Configured = new();

    private void Configure(DbConnection connection)
    {
        var handle = (connection as SqliteConnection)?.Handle;
        string? synchronous = null;
        if (handle is null || !Configured.TryGetValue(handle, out synchronous))
        {
            using var first = connection.CreateCommand();
            // SQLite's busy handler backs off in milliseconds, not Microsoft.Data.Sqlite's 150 ms steps.
            first.CommandText = "PRAGMA busy_timeout = 30000;";
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
}
