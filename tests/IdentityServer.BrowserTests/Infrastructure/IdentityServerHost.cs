using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.BrowserTests.Infrastructure;

/// <summary>
/// The real server on real Kestrel (a browser cannot reach an in-memory TestServer), in Development
/// with the demo seed, and with its database, certificates and keys in a folder of its own.
/// </summary>
public class IdentityServerHost : WebApplicationFactory<Program>
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "idp-browser-tests", Guid.NewGuid().ToString("N"));
    private readonly Lazy<Uri> baseAddress;
    private readonly IReadOnlyDictionary<string, string> settings;

    public IdentityServerHost()
        : this(new Dictionary<string, string>())
    {
    }

    /// <param name="settings">Configuration on top of the Development defaults (for example where mail goes).</param>
    internal IdentityServerHost(IReadOnlyDictionary<string, string> settings)
    {
        this.settings = settings;
        Directory.CreateDirectory(folder);
        // Port 0: the OS picks a free port, so parallel runs and a developer's own server never clash.
        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        // Started on first use: when every browser test is skipped, no server is started for nothing.
        baseAddress = new Lazy<Uri>(Start);
    }

    /// <summary>The server's root, for example <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress => baseAddress.Value;

    /// <summary>
    /// The same server named <c>localhost</c> (<c>http://localhost:41234/</c>): a secure context,
    /// which WebAuthn needs, with a domain for a relying party id, which an IP address is not.
    /// </summary>
    public Uri LocalhostAddress => new UriBuilder(BaseAddress) { Host = "localhost" }.Uri;

    public HttpClient CreateHttpClient() => new() { BaseAddress = BaseAddress };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // Development is what allows plain HTTP and self-signed certificates, and seeds the demo set.
        builder.UseEnvironment("Development");
        builder.UseSetting("ConnectionStrings:Default", $"Data Source={Path.Combine(folder, "idp.db")}");
        builder.UseSetting("Certificates:DevelopmentPath", Path.Combine(folder, "certs"));
        builder.UseSetting("DataProtection:KeysPath", Path.Combine(folder, "keys"));
        // Empty on purpose, even if the machine sets one: the tests rely on the demo seed.
        builder.UseSetting("Seed:Path", "");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }

    private Uri Start()
    {
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
            ?? throw new InvalidOperationException("The server does not report the address it listens on.");
        return new Uri(addresses.Single().TrimEnd('/') + "/");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        // SQLite keeps pooled connections (and so the file) open after the host stops.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open; the OS cleans its temp folder.
        }
    }
}
