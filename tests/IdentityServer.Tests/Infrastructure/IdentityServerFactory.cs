using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// Hosts the real server with its own database, seed file, certificates and key folder.
/// Each test class gets one (IClassFixture), so classes never share state. The database is a
/// SQLite file unless <c>IDP_TEST_DATABASE=Postgres</c>: then each factory creates a fresh
/// database on the server named by <c>IDP_TEST_POSTGRES</c> (a connection string) and drops it
/// when disposed.
/// </summary>
public class IdentityServerFactory : WebApplicationFactory<Program>
{
    public IdentityServerFactory()
    {
        Folder = Path.Combine(Path.GetTempPath(), "idp-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        SeedPath = Path.Combine(Folder, "seed.json");
        File.WriteAllText(SeedPath, TestSeed.Json);
        DatabasePath = Path.Combine(Folder, "idp.db");

        if (Provider == TestDatabaseProvider.Postgres)
        {
            PostgresDatabaseName = "idp_test_" + Guid.NewGuid().ToString("N");
            ExecutePostgresAdmin($"CREATE DATABASE \"{PostgresDatabaseName}\"");
            ConnectionString = new NpgsqlConnectionStringBuilder(PostgresServer) { Database = PostgresDatabaseName }.ConnectionString;
            Settings["Database:Provider"] = "Postgres";
        }
        else
        {
            ConnectionString = $"Data Source={DatabasePath}";
        }
        Settings["ConnectionStrings:Default"] = ConnectionString;
        Settings["Seed:Path"] = SeedPath;
        Settings["Certificates:Signing:0:Path"] = TestCertificates.SigningPath;
        Settings["Certificates:Signing:0:Password"] = TestCertificates.Password;
        Settings["Certificates:Encryption:0:Path"] = TestCertificates.EncryptionPath;
        Settings["Certificates:Encryption:0:Password"] = TestCertificates.Password;
        Settings["DataProtection:KeysPath"] = Path.Combine(Folder, "keys");
        // Outside Development the issuer must be configured; the test clients' base address.
        Settings["IdentityServer:Issuer"] = BaseAddress.AbsoluteUri;
        // Test classes sign in, enter codes and send wrong secrets many times a minute from one
        // (absent) address. The limits stay on, so every request passes through them, but far above
        // what any class does; the rate-limit tests set their own.
        foreach (var limit in new[] { "SignInPerIp", "SignInPerAccount", "ClientAuthenticationFailuresPerIp", "DeviceVerification",
            "PasswordResetPerIp", "PasswordResetPerAccount", "AccountEmailPerUser" })
        {
            Settings[$"RateLimits:{limit}:PermitLimit"] = "100000";
        }
        // No test host ever reaches a real mail server: mail goes into this folder unless a test
        // points the host at its own SMTP server (MailServerFactory).
        Settings["Email:PickupFolder"] = MailFolder;
        // Hosts in one process share a machine name and process id: each is its own cluster node.
        Settings["Scheduler:InstanceId"] = "test-node-" + Guid.NewGuid().ToString("N");
    }

    public string Folder { get; }

    public string SeedPath { get; }

    /// <summary>Where the host writes its mail as <c>.eml</c> files when no SMTP server is configured.</summary>
    public string MailFolder => Path.Combine(Folder, "mail");

    /// <summary>The SQLite file (SQLite runs only).</summary>
    public string DatabasePath { get; }

    /// <summary>The database this factory created and drops (PostgreSQL runs only).</summary>
    public string? PostgresDatabaseName { get; }

    /// <summary>What <c>ConnectionStrings:Default</c> is set to.</summary>
    public string ConnectionString { get; }

    /// <summary>The provider the suite runs against, from <c>IDP_TEST_DATABASE</c> (default Sqlite).</summary>
    public static TestDatabaseProvider Provider { get; } = ReadProvider();

    private static string PostgresServer => Environment.GetEnvironmentVariable("IDP_TEST_POSTGRES") is { Length: > 0 } server
        ? server
        : throw new InvalidOperationException("IDP_TEST_DATABASE=Postgres needs IDP_TEST_POSTGRES, a connection string to a PostgreSQL server whose user may create databases.");

    private static TestDatabaseProvider ReadProvider()
    {
        var value = Environment.GetEnvironmentVariable("IDP_TEST_DATABASE");
        return string.IsNullOrEmpty(value) || value.Equals("Sqlite", StringComparison.OrdinalIgnoreCase) ? TestDatabaseProvider.Sqlite
            : value.Equals("Postgres", StringComparison.OrdinalIgnoreCase) ? TestDatabaseProvider.Postgres
            : throw new InvalidOperationException($"IDP_TEST_DATABASE '{value}': use Sqlite or Postgres.");
    }

    /// <summary>Runs one statement against the PostgreSQL server's maintenance database.</summary>
    public static void ExecutePostgresAdmin(string sql)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(PostgresServer) { Pooling = false }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    /// <summary>Makes the database unreachable under the running host: the SQLite file goes, the PostgreSQL database is dropped.</summary>
    public void RemoveDatabase()
    {
        if (PostgresDatabaseName is not null)
        {
            NpgsqlConnection.ClearAllPools();
            ExecutePostgresAdmin($"DROP DATABASE IF EXISTS \"{PostgresDatabaseName}\" WITH (FORCE)");
            return;
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(DatabasePath + suffix);
        }
    }

    /// <summary>Configuration for the host; change it in a derived constructor before the first request.</summary>
    public Dictionary<string, string?> Settings { get; } = new(StringComparer.OrdinalIgnoreCase);

    public string EnvironmentName { get; set; } = "Testing";

    public static Uri BaseAddress { get; } = new("https://localhost");

    /// <summary>How long a test host's stop may wait for its background services.</summary>
    public static TimeSpan ShutdownTimeout { get; } = TimeSpan.FromSeconds(5);

    /// <summary>Everything the host logged (Information and above, as the configuration filters it).</summary>
    public CapturingLoggerProvider Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(EnvironmentName);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        // A test host that cannot stop cleanly (say, its database was dropped) gives up quickly.
        builder.ConfigureServices(static services =>
            services.Configure<HostOptions>(static options => options.ShutdownTimeout = ShutdownTimeout));
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
        ConfigureTestServices(builder);
        // The log-secret scan of a test run (tests/scan-logs.sh): off unless IDP_TEST_LOG_DIR is set.
        TestLogSink.Attach(builder, Settings, SeedPath);
    }

    protected virtual void ConfigureTestServices(IWebHostBuilder builder)
    {
    }

    /// <summary>Keeps Quartz from starting, so only the test runs jobs (and no timer fires behind its back).</summary>
    public static void RemoveScheduler(IServiceCollection services)
    {
        foreach (var hosted in services.Where(static d => d.ServiceType == typeof(Microsoft.Extensions.Hosting.IHostedService)
            && d.ImplementationType == typeof(IdentityServer.Scheduling.SchedulerHostedService)).ToList())
        {
            services.Remove(hosted);
        }
    }

    public HttpClient CreateBrowserlikeClient() => CreateClient(new WebApplicationFactoryClientOptions
    {
        AllowAutoRedirect = false,
        HandleCookies = true,
        BaseAddress = BaseAddress,
    });

    public OidcTestClient CreateOidcClient() => new(CreateBrowserlikeClient());

    public async Task<T> WithScopeAsync<T>(Func<IServiceProvider, Task<T>> action)
    {
        await using var scope = Services.CreateAsyncScope();
        return await action(scope.ServiceProvider);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (PostgresDatabaseName is not null)
        {
            NpgsqlConnection.ClearAllPools();
            ExecutePostgresAdmin($"DROP DATABASE IF EXISTS \"{PostgresDatabaseName}\" WITH (FORCE)");
        }
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still open on this platform; the temp folder is cleaned by the OS.
        }
    }
}
