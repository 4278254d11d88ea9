using System.Globalization;
using System.Text.RegularExpressions;
using ClientSamples.EndToEndTests.Cluster;
using ClientSamples.EndToEndTests.Infrastructure;

namespace ClientSamples.EndToEndTests.CrashSafety;

/// <summary>
/// The identity provider in Production on one SQLite file, started again and again on the same file,
/// certificates and data-protection keys, as a supervisor would restart it after a crash. Each start
/// gets a fresh loopback port (a killed process's port is not waited for); the issuer is fixed, so
/// tokens issued before a crash are the server's own after it. Called over plain HTTP from loopback
/// with <c>X-Forwarded-Proto: https</c>, as behind a TLS-terminating proxy.
/// </summary>
internal sealed partial class CrashServer : IAsyncDisposable
{
    /// <summary><c>Pruning:Interval</c>: short, so that a run follows every restart within seconds.</summary>
    public static readonly TimeSpan PruningInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// <c>IdentityServer:RefreshTokenLifetime</c>, and <c>Pruning:MinimumAge</c> (which may not be shorter):
    /// long enough for a chain to be checked after its round's restart, short enough that pruning removes
    /// the first rounds' dead tokens while later rounds run.
    /// </summary>
    public static readonly TimeSpan RefreshTokenLifetime = TimeSpan.FromSeconds(45);

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly TestFolder folder;
    private readonly ClusterCertificates certificates;
    private readonly List<AppProcess> runs = [];

    public CrashServer(TestFolder folder)
    {
        this.folder = folder;
        Directory.CreateDirectory(folder.Path);
        certificates = ClusterCertificates.Create(folder.Path);
    }

    public string DatabasePath => folder.File("idp.db");

    /// <summary>The running process (the latest start).</summary>
    public AppProcess Process => runs.Count > 0 ? runs[^1] : throw new InvalidOperationException("The server was never started.");

    /// <summary>Where the running process listens.</summary>
    public Uri Address { get; private set; } = null!;

    public async Task StartAsync()
    {
        var port = BuildOutput.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            // A build output has no wwwroot (publishing copies it there): the pages' files come from the project.
            ["ASPNETCORE_WEBROOT"] = Path.Combine(BuildOutput.RepositoryRoot, "src", "IdentityServer", "wwwroot"),
            ["ConnectionStrings__Default"] = $"Data Source={DatabasePath}",
            ["DataProtection__KeysPath"] = folder.File("keys"),
            ["IdentityServer__Issuer"] = CrashSafetyTests.Issuer.AbsoluteUri,
            ["IdentityServer__AccessTokenLifetime"] = "00:10:00",
            ["IdentityServer__RefreshTokenLifetime"] = RefreshTokenLifetime.ToString("c", CultureInfo.InvariantCulture),
            // No grace: a refresh token presented a second time is refused at once, whatever the clock.
            ["IdentityServer__RefreshTokenReuseLeeway"] = "00:00:00",
            ["Pruning__Interval"] = PruningInterval.ToString("c", CultureInfo.InvariantCulture),
            ["Pruning__MinimumAge"] = RefreshTokenLifetime.ToString("c", CultureInfo.InvariantCulture),
            // Loopback is the trusted proxy: the test's requests say they arrived over HTTPS.
            ["ForwardedHeaders__Enabled"] = "true",
            ["Certificates__Signing__0__Path"] = certificates.SigningPath,
            ["Certificates__Signing__0__Password"] = certificates.Password,
            ["Certificates__Encryption__0__Path"] = certificates.EncryptionPath,
            ["Certificates__Encryption__0__Password"] = certificates.Password,
            // Seeded once: checking the seed's secrets again (a password hash each) would only slow every restart.
            ["Seed__Path"] = runs.Count == 0 ? Path.Combine(AppContext.BaseDirectory, "CrashSafety", "seed.json") : "",
        };
        var process = AppProcess.Start($"identity provider (start {runs.Count + 1})", "src/IdentityServer", "IdentityServer.dll",
            ["--urls", $"http://127.0.0.1:{port}"], environment);
        runs.Add(process);
        Address = new Uri($"http://127.0.0.1:{port}/");
        await process.WaitUntilServingAsync(new Uri(Address, "health/ready"), StartTimeout, requireSuccess: true);
    }

    /// <summary>SIGKILL: no shutdown hook, no last checkpoint, whatever request is in flight is cut off.</summary>
    public Task KillAsync() => Process.KillAsync();

    /// <summary>
    /// A copy of the database file and its WAL as the killed process left them, for inspection: the
    /// server itself then recovers the original at its next start, as it would in production.
    /// </summary>
    public string CopyDatabase(int round)
    {
        var copy = folder.File($"after-kill-{round}");
        Directory.CreateDirectory(copy);
        var target = Path.Combine(copy, "idp.db");
        File.Copy(DatabasePath, target);
        if (File.Exists(DatabasePath + "-wal"))
        {
            File.Copy(DatabasePath + "-wal", target + "-wal");
        }
        return target;
    }

    /// <summary>Tokens the pruning runs of every start removed (EventId 3001), for the test's report.</summary>
    public long PrunedTokens() => runs
        .SelectMany(run => run.Output)
        .Select(line => PruningEnded().Match(line))
        .Where(match => match.Success)
        .Sum(match => long.Parse(match.Groups["tokens"].Value, CultureInfo.InvariantCulture));

    /// <summary>The running process's last lines, for a failure message.</summary>
    public string Logs() => runs.Count == 0 ? "(not started)" : $"--- {Process.Name} ---\n{Process.Tail(80)}";

    public async ValueTask DisposeAsync()
    {
        foreach (var run in runs)
        {
            await run.DisposeAsync();
        }
    }

    [GeneratedRegex(@"Pruning ended \d+ expired sessions and removed (?<tokens>\d+) tokens")]
    private static partial Regex PruningEnded();
}
