using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace IdentityServer.Data.Sqlite;

/// <summary>
/// Group commit for SQLite. Connections commit with <c>synchronous = NORMAL</c> in WAL mode: a commit
/// writes its pages to the write-ahead log but does not wait for the disk. Before the caller goes on
/// (and so before any response that depends on the write is sent) it waits here for an fsync of
/// the write-ahead log that started after its commit completed. Commits that finish while one fsync
/// runs share the next one, so the single writer no longer holds the write lock through an fsync per
/// commit and one fsync makes many commits durable. The promise is the one <c>synchronous = FULL</c>
/// makes (what the server has answered survives a power loss), with the fsync moved out of the lock.
/// SQLite's own guarantees under NORMAL (a consistent database after a crash or power loss; checkpoints
/// fsync the log before copying it into the database) are unchanged.
/// </summary>
internal sealed class WalFlusher : IDisposable
{
    private readonly string walPath;
    private readonly string? directory;
    private readonly string connectionString;
    private readonly Lock sync = new();
    private readonly SemaphoreSlim signal = new(0);
    private SqliteConnection? keeper;
    private FileStream? wal;
    private Thread? thread;
    private TaskCompletionSource? batch;
    private long flushes;
    private long waits;
    private volatile bool disposed;
    private Exception? failure;

    public WalFlusher(string databasePath)
    {
        walPath = databasePath + "-wal";
        directory = Path.GetDirectoryName(Path.GetFullPath(databasePath));
        // Not pooled: this connection stays open for the life of the process, so SQLite never deletes
        // the write-ahead log (it does when the last connection closes) and the file handle below
        // always names the live log.
        connectionString = new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString();
    }

    /// <summary>How many fsyncs ran, and how many commits waited for one (for tests and diagnosis).</summary>
    public (long Flushes, long Waits) Statistics => (Interlocked.Read(ref flushes), Interlocked.Read(ref waits));

    /// <summary>The flusher's state, for diagnosis of a stalled commit.</summary>
    public string Describe()
    {
        lock (sync)
        {
            return $"{Interlocked.Read(ref flushes)} fsyncs for {Interlocked.Read(ref waits)} waits; a batch {(batch is null ? "not " : "")}pending; "
                + $"thread {(thread is null ? "not started" : thread.IsAlive ? "alive" : "ended")}; {(failure is null ? "no failure" : "failed: " + failure.GetType().Name)}";
        }
    }

    /// <summary>Completes once every commit that completed before the call is on disk.</summary>
    public Task FlushAsync()
    {
        Interlocked.Increment(ref waits);
        lock (sync)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            // Join the batch that the next fsync will take; an fsync already running may have started
            // before this caller's commit, so it does not count.
            if (batch is null)
            {
                batch = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (thread is null)
                {
                    thread = new Thread(Run) { IsBackground = true, Name = "SQLite WAL flusher" };
                    thread.UnsafeStart();
                }
                signal.Release();
            }
            return batch.Task;
        }
    }

    /// <summary>One thread does the fsyncs, one batch at a time, so no request thread blocks on the disk.</summary>
    private void Run()
    {
        while (!disposed)
        {
            signal.Wait();
            TaskCompletionSource? taken;
            lock (sync)
            {
                taken = batch;
                batch = null;
            }
            if (taken is null || disposed)
            {
                continue;
            }
            try
            {
                Sync();
                Interlocked.Increment(ref flushes);
                taken.TrySetResult();
            }
            catch (Exception exception)
            {
                taken.TrySetException(exception);
            }
        }
    }

    private void Sync()
    {
        if (failure is not null)
        {
            // After a failed fsync the kernel may have dropped the pages it could not write; a later
            // fsync that succeeds says nothing about them. Every later commit fails instead.
            throw new IOException("An earlier fsync of the SQLite write-ahead log failed; restart the server.", failure);
        }
        try
        {
            if (wal is null)
            {
                if (!File.Exists(walPath))
                {
                    // No write-ahead log: the database is not in WAL mode, and its connections commit
                    // with synchronous = FULL, which syncs every commit itself.
                    return;
                }
                var connection = new SqliteConnection(connectionString);
                try
                {
                    connection.Open();
                    using (var command = connection.CreateCommand())
                    {
                        // Reading opens the write-ahead log (creating it again if it was just deleted).
                        command.CommandText = "SELECT count(*) FROM sqlite_master;";
                        command.ExecuteScalar();
                    }
                    // The log may have been created moments ago: make its directory entry durable once
                    // (SQLite itself would do that only at its first sync of the log, the next checkpoint).
                    if (directory is not null)
                    {
                        SyncDirectory(directory);
                    }
                    wal = new FileStream(walPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
                    keeper = connection;
                }
                catch
                {
                    connection.Dispose();
                    throw;
                }
            }
            wal.Flush(flushToDisk: true);
        }
        catch (Exception exception) when (wal is not null)
        {
            failure = exception;
            throw;
        }
    }

    /// <summary>fsync of a directory, which .NET's file APIs cannot open.</summary>
    private static void SyncDirectory(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return; // Windows makes a new file's directory entry durable with the file's own flush.
        }
        var descriptor = NativeMethods.Open(System.Text.Encoding.UTF8.GetBytes(path + "\0"), 0 /* O_RDONLY */);
        if (descriptor < 0)
        {
            throw new IOException($"Cannot open the database folder to sync it (errno {Marshal.GetLastPInvokeError()}).");
        }
        try
        {
            if (NativeMethods.Fsync(descriptor) != 0)
            {
                throw new IOException($"Cannot sync the database folder (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = NativeMethods.Close(descriptor);
        }
    }

    public void Dispose()
    {
        lock (sync)
        {
            disposed = true;
            batch?.TrySetException(new ObjectDisposedException(nameof(WalFlusher)));
            batch = null;
            signal.Release();
        }
        thread?.Join(TimeSpan.FromSeconds(5));
        wal?.Dispose();
        keeper?.Dispose();
    }
}

internal static class NativeMethods
{
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    public static extern int Open(byte[] nulTerminatedUtf8Path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static extern int Fsync(int descriptor);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    public static extern int Close(int descriptor);
}
