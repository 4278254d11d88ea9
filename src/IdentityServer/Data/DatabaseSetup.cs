using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using IdentityServer.Data.Sqlite;
using Npgsql;

namespace IdentityServer.Data;

internal static class DatabaseSetup
{
    public const string DefaultConnectionString = "Data Source=App_Data/idp.db";

    /// <summary>Key of the PostgreSQL advisory lock that lets one node at a time migrate and seed.</summary>
    private const long StartupLockKey = 0x1D9_5EED;

    public static WebApplicationBuilder AddDatabase(this WebApplicationBuilder builder)
    {
        var provider = ReadProvider(builder.Configuration);
        builder.Services.AddSingleton(new DatabaseInfo(provider));
        if (provider == DatabaseProvider.Postgres)
        {
            var connectionString = builder.Configuration.GetConnectionString("Default");
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new InvalidOperationException(
                    "Database:Provider is 'Postgres' but ConnectionStrings:Default is empty. Set it to a PostgreSQL " +
                    "connection string, for example 'Host=db;Database=idp;Username=idp;Password=...'.");
            }
            // Registered as ApplicationDbContext: the rest of the code never knows which provider runs.
            builder.Services.AddDbContextPool<ApplicationDbContext, PostgresApplicationDbContext>(options =>
            {
                options.UseNpgsql(connectionString);
                options.UseOpenIddict();
            });
            return builder;
        }

        var sqliteConnectionString = ResolveConnectionString(
            builder.Configuration.GetConnectionString("Default") ?? DefaultConnectionString,
            builder.Environment.ContentRootPath);

        // A file database gets the group fsync of its write-ahead log (an in-memory one has none).
        var dataSource = new SqliteConnectionStringBuilder(sqliteConnectionString);
        var fileDatabase = !string.IsNullOrEmpty(dataSource.DataSource) && dataSource.DataSource != ":memory:"
            && dataSource.Mode != SqliteOpenMode.Memory;
        if (fileDatabase)
        {
            builder.Services.AddSingleton(_ => new WalFlusher(dataSource.DataSource));
        }
        builder.Services.AddSingleton(services => new SqliteWriteGate(services.GetService<WalFlusher>()));
        builder.Services.AddDbContextPool<ApplicationDbContext>((services, options) =>
        {
            options.UseSqlite(sqliteConnectionString);
            options.UseOpenIddict();
            options.AddInterceptors(services.GetRequiredService<SqliteWriteGate>());
        });
        return builder;
    }

    /// <summary>Reads <c>Database:Provider</c>; anything but Sqlite (the default) or Postgres stops start-up.</summary>
    internal static DatabaseProvider ReadProvider(IConfiguration configuration)
    {
        var value = configuration["Database:Provider"];
        if (string.IsNullOrWhiteSpace(value))
        {
            return DatabaseProvider.Sqlite;
        }
        if (Enum.TryParse<DatabaseProvider>(value.Trim(), ignoreCase: true, out var provider)
            && Enum.IsDefined(provider) && !value.Trim().All(char.IsAsciiDigit))
        {
            return provider;
        }
        throw new InvalidOperationException(
            $"Database:Provider '{value}' is not supported. Use 'Sqlite' (the default) or 'Postgres'.");
    }

    /// <summary>
    /// Holds start-up to one node at a time while it migrates and seeds. EF Core locks the
    /// migrations history during Migrate, but seeding after it would still race on a second node
    /// (two inserts of the same client); a session-level advisory lock on PostgreSQL covers both.
    /// On SQLite, two processes may still share one file (a restart overlapping the old process):
    /// an exclusive lock on a file beside the database serialises them.
    /// </summary>
    public static async Task<IAsyncDisposable> LockDatabaseForStartupAsync(this WebApplication app)
    {
        if (app.Services.GetRequiredService<DatabaseInfo>().Provider != DatabaseProvider.Postgres)
        {
            return await LockSqliteFileAsync(app);
        }
        var connection = new NpgsqlConnection(app.Configuration.GetConnectionString("Default"));
        try
        {
            await OpenForStartupAsync(connection, app.Lifetime.ApplicationStopping);
            await using var command = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection);
            command.Parameters.AddWithValue("key", StartupLockKey);
            // Waits for another node's migration; a migration is short, so no timeout of our own.
            command.CommandTimeout = 0;
            await command.ExecuteNonQueryAsync(app.Lifetime.ApplicationStopping);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        return new AdvisoryLock(connection);
    }

    /// <summary>
    /// Opens the first connection of the start-up, turning the two mistakes of a first deployment
    /// (database not created, server not reachable) into a message an operator can act on. It names
    /// the host, port and database, never the password.
    /// </summary>
    private static async Task OpenForStartupAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var target = new NpgsqlConnectionStringBuilder(connection.ConnectionString);
        var where = $"database '{target.Database}' on {target.Host}:{target.Port}";
        try
        {
            await connection.OpenAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            throw new InvalidOperationException(
                $"PostgreSQL has no {where} (ConnectionStrings:Default). Create it first, for example "
                + $"CREATE DATABASE \"{target.Database}\" OWNER <the server's role>; the server creates its tables itself.", e);
        }
        catch (NpgsqlException e) when (e is not PostgresException)
        {
            throw new InvalidOperationException(
                $"Cannot reach PostgreSQL for {where} (ConnectionStrings:Default): {e.InnerException?.Message ?? e.Message}", e);
        }
    }

    private static async Task<IAsyncDisposable> LockSqliteFileAsync(WebApplication app)
    {
        var csb = new SqliteConnectionStringBuilder(ResolveConnectionString(
            app.Configuration.GetConnectionString("Default") ?? DefaultConnectionString, app.Environment.ContentRootPath));
        if (string.IsNullOrEmpty(csb.DataSource) || csb.DataSource == ":memory:" || csb.Mode == SqliteOpenMode.Memory)
        {
            return NoLock.Instance;
        }
        var path = csb.DataSource + ".startup-lock";
        while (true)
        {
            try
            {
                // FileShare.None is an exclusive lock on the file, also between streams of one process.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                // Another process is migrating or seeding: a matter of seconds.
                await Task.Delay(TimeSpan.FromMilliseconds(100), app.Lifetime.ApplicationStopping);
            }
        }
    }

    /// <summary>
    /// Applies pending migrations before the server accepts requests. The SQLite file and its
    /// folder are created on first run; new SQLite databases are switched to WAL so readers never
    /// wait for the single writer.
    /// </summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<ApplicationDbContext>();
        await context.Database.MigrateAsync();
        if (context.Database.IsSqlite())
        {
            await context.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
        }
    }

    /// <summary>Makes a relative SQLite file path relative to the content root and creates its folder.</summary>
    internal static string ResolveConnectionString(string connectionString, string contentRoot)
    {
        var csb = new SqliteConnectionStringBuilder(connectionString);
        if (!string.IsNullOrEmpty(csb.DataSource)
            && csb.DataSource != ":memory:"
            && csb.Mode != SqliteOpenMode.Memory)
        {
            var path = Path.IsPathRooted(csb.DataSource)
                ? csb.DataSource
                : Path.GetFullPath(Path.Combine(contentRoot, csb.DataSource));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            csb.DataSource = path;
        }
        return csb.ToString();
    }

    /// <summary>
    /// Unlocks explicitly: a pooled connection is only reset when next used, so closing it alone
    /// would keep the lock held.
    /// </summary>
    private sealed class AdvisoryLock(NpgsqlConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
                command.Parameters.AddWithValue("key", StartupLockKey);
                await command.ExecuteNonQueryAsync();
            }
            finally
            {
                await connection.DisposeAsync();
            }
        }
    }

    private sealed class NoLock : IAsyncDisposable
    {
        public static readonly NoLock Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
