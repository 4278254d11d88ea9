using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// Hosts the real server with its own SQLite file, seed file, certificates and key folder.
/// Each test class gets one (IClassFixture), so classes never share state.
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

        Settings["ConnectionStrings:Default"] = $"Data Source={DatabasePath}";
        Settings["Seed:Path"] = SeedPath;
        Settings["Certificates:Signing:0:Path"] = TestCertificates.SigningPath;
        Settings["Certificates:Signing:0:Password"] = TestCertificates.Password;
        Settings["Certificates:Encryption:0:Path"] = TestCertificates.EncryptionPath;
        Settings["Certificates:Encryption:0:Password"] = TestCertificates.Password;
        Settings["DataProtection:KeysPath"] = Path.Combine(Folder, "keys");
        Settings["IdentityServer:RefreshTokenReuseLeeway"] = "00:00:00";
    }

    public string Folder { get; }

    public string SeedPath { get; }

    public string DatabasePath { get; }

    /// <summary>Configuration for the host; change it in a derived constructor before the first request.</summary>
    public Dictionary<string, string?> Settings { get; } = new(StringComparer.OrdinalIgnoreCase);

    public string EnvironmentName { get; set; } = "Testing";

    public static Uri BaseAddress { get; } = new("https://localhost");

    /// <summary>Everything the host logged (Information and above).</summary>
    public CapturingLoggerProvider Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(EnvironmentName);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
        ConfigureTestServices(builder);
    }

    protected virtual void ConfigureTestServices(IWebHostBuilder builder)
    {
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
