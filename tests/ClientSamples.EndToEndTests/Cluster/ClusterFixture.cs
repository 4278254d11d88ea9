using System.Globalization;
using System.Text.RegularExpressions;
using ClientSamples.EndToEndTests.Infrastructure;
using Microsoft.Playwright;
using Npgsql;
using Xunit.Sdk;

namespace ClientSamples.EndToEndTests.Cluster;

/// <summary>
/// The identity provider as our deployment guide runs it on several machines, here on one: two server
/// processes in Production on a fresh PostgreSQL database, sharing certificates and settings, behind
/// nginx configured from <c>deploy/nginx.conf.template</c> (TLS, round-robin, forwarded headers). The
/// nodes' timers are short, so that session caches, pruning firings and scheduler take-over show within
/// seconds. One cluster per test class.
/// </summary>
public sealed partial class ClusterFixture : IAsyncLifetime
{
    public const string ClientId = "cluster-web";
    public const string ClientSecret = "cluster-web-secret-not-for-production";
    public const string ApiClientId = "cluster-api";
    public const string ApiClientSecret = "cluster-api-secret-not-for-production";
    public const string AdminClientId = "cluster-admin";
    public const string AdminClientSecret = "cluster-admin-secret-not-for-production";
    public const string Scopes = "openid offline_access cluster-api";
    public const string UserName = "carol";
    public const string Password = "Cluster-Passw0rd!";

    /// <summary>An administrator of the cluster's seed, for the admin pages.</summary>
    public const string AdminUserName = "dave";

    public const string AdminPassword = "Cluster-Admin-Passw0rd!";

    /// <summary>Registered for the test client in <c>Cluster/seed.json</c>; the browser's request there is answered in the test.</summary>
    public static readonly Uri RedirectUri = new("https://client.example/cb");

    /// <summary><c>Sessions:CacheDuration</c>: how long a node may go on trusting a session that another node ended.</summary>
    public static readonly TimeSpan SessionCacheDuration = TimeSpan.FromSeconds(2);

    /// <summary><c>Pruning:Interval</c>, and <c>Scheduler:CheckinInterval</c>: a stopped node is taken for dead after about twice that.</summary>
    public static readonly TimeSpan SchedulerInterval = TimeSpan.FromSeconds(2);

    private const int NodeCount = 2;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly TestFolder folder = new("idp-cluster-tests");
    private readonly string database = "idp_cluster_" + Guid.NewGuid().ToString("N");
    private readonly List<AppProcess> processes = [];
    private bool databaseCreated;
    private HttpClient? http;
    private BrowserHost? chromium;

    /// <summary>nginx's address, which is the issuer every node is configured with.</summary>
    public Uri Issuer { get; } = new($"https://localhost:{BuildOutput.FreePort()}/");

    internal IReadOnlyList<ClusterNode> Nodes { get; private set; } = [];

    /// <summary>Calls through nginx, over HTTPS with nginx's test certificate.</summary>
    internal ServerClient Proxy { get; private set; } = null!;

    private string NginxFolder => folder.File("nginx");

    public async Task InitializeAsync()
    {
        // xunit builds class fixtures even when every test of the class is skipped.
        if (ClusterRequirements.SkipReason is not null)
        {
            return;
        }
        ClusterRequirements.ThrowIfMissing();

        // nginx's workers run as another user when the tests run as root: they may pass through, not list.
        CreateDirectory(folder.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        var certificates = ClusterCertificates.Create(folder.Path);
        var handler = new HttpClientHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificates.IsTlsCertificate(certificate),
        };
        http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        Proxy = new ServerClient(http, Issuer, direct: false);

        await ExecuteOnServerAsync($"CREATE DATABASE \"{database}\"");
        databaseCreated = true;

        // Started together: the server serialises migration and seeding across nodes itself.
        Nodes = [.. Enumerable.Range(1, NodeCount).Select(i => StartNode($"node-{i}", certificates))];
        await Task.WhenAll(Nodes.Select(node =>
            node.Process.WaitUntilServingAsync(new Uri(node.Client.Address, "health/ready"), StartTimeout, requireSuccess: true)));

        var nginx = Add(StartNginx(certificates));
        await nginx.WaitUntilServingAsync(new Uri(Issuer, "health/ready"), TimeSpan.FromSeconds(20), http, requireSuccess: true);

        chromium = await BrowserHost.LaunchAsync();
    }

    /// <summary>A fresh browser profile that accepts nginx's self-signed certificate.</summary>
    public async Task<IBrowserContext> NewBrowserContextAsync()
    {
        var context = await (chromium ?? throw new InvalidOperationException("The cluster did not start.")).Browser.NewContextAsync(new() { IgnoreHTTPSErrors = true });
        context.SetDefaultTimeout(Chromium.DefaultTimeout);
        return context;
    }

    /// <summary>The node nginx names in an <c>X-Upstream</c> value; after a retry the value lists every node tried, the last one answered.</summary>
    internal ClusterNode NodeAt(string? upstream)
    {
        var answered = upstream?.Split(',', StringSplitOptions.TrimEntries)[^1];
        return Nodes.SingleOrDefault(n => n.Upstream == answered)
            ?? throw new XunitException($"X-Upstream '{upstream}' names no node of the cluster ({string.Join(", ", Nodes)}).");
    }

    /// <summary>The Cookie header a browser would send to the identity provider.</summary>
    public async Task<string> CookieHeaderAsync(IBrowserContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return string.Join("; ", (await context.CookiesAsync([Issuer.AbsoluteUri])).Select(c => $"{c.Name}={c.Value}"));
    }

    /// <summary>Every pruning run the nodes logged so far (EventId 3002), with the node whose output it is in.</summary>
    internal IReadOnlyList<PruningFiring> PruningFirings() =>
    [
        .. Nodes.SelectMany(node => node.Process.Output
            .Select(line => PruningRun().Match(line))
            .Where(match => match.Success)
            .Select(match => new PruningFiring(
                DateTimeOffset.Parse(match.Groups["time"].Value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                match.Groups["node"].Value,
                node))),
    ];

    /// <summary>Polls the nodes' output until <paramref name="condition"/> holds for the pruning runs logged.</summary>
    internal async Task<IReadOnlyList<PruningFiring>> WaitForPruningFiringsAsync(Func<IReadOnlyList<PruningFiring>, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var firings = PruningFirings();
            if (condition(firings))
            {
                return firings;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new XunitException($"The pruning runs the nodes logged within {timeout} are not those awaited:\n{string.Join('\n', firings)}");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// Runs a test body; when it fails, the failure carries the tails of the nodes' and nginx's logs, which is
    /// where the reason for a failure of a multi-process test usually is.
    /// </summary>
    public async Task WithLogsOnFailureAsync(Func<Task> test)
    {
        ArgumentNullException.ThrowIfNull(test);
        try
        {
            await test();
        }
        catch (Exception failure)
        {
            throw new XunitException($"{failure.GetType().Name}: {failure.Message}\n\n{Logs()}", failure);
        }
    }

    /// <summary>The last lines the nodes and nginx wrote, for a failure message.</summary>
    public string Logs()
    {
        var errorLog = Path.Combine(NginxFolder, "error.log");
        var nginxErrors = File.Exists(errorLog) ? string.Join('\n', File.ReadLines(errorLog).TakeLast(20)) : "(none)";
        return string.Join("\n\n", processes.Select(p => $"--- {p.Name} ---\n{p.Tail()}")) + $"\n\n--- nginx error.log ---\n{nginxErrors}";
    }

    public async Task DisposeAsync()
    {
        if (chromium is not null)
        {
            await chromium.DisposeAsync();
        }
        foreach (var process in processes)
        {
            await process.DisposeAsync();
        }
        http?.Dispose();
        if (databaseCreated)
        {
            await ExecuteOnServerAsync($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
        }
        folder.Dispose();
    }

    public static readonly TimeSpan KeyRotationInterval = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan KeyPublishAhead = TimeSpan.FromSeconds(10);

    private ClusterNode StartNode(string name, ClusterCertificates certificates)
    {
        var port = BuildOutput.FreePort();
        var connectionString = new NpgsqlConnectionStringBuilder(ClusterRequirements.PostgresServer) { Database = database }.ConnectionString;
        // The settings deploy/run-cluster.sh gives every node, plus the short timers of these tests.
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            // A build output has no wwwroot (publishing copies it there): the pages' files come from the project.
            ["ASPNETCORE_WEBROOT"] = Path.Combine(BuildOutput.RepositoryRoot, "src", "IdentityServer", "wwwroot"),
            ["Database__Provider"] = "Postgres",
            ["ConnectionStrings__Default"] = connectionString,
            ["IdentityServer__Issuer"] = Issuer.AbsoluteUri,
            ["IdentityServer__RefreshTokenReuseLeeway"] = "00:00:00",
            ["ForwardedHeaders__Enabled"] = "true",
            ["ForwardedHeaders__KnownProxies__0"] = "127.0.0.1",
            // Automatic signing keys on a schedule short enough to watch: a key signs for 30 s, the next
            // is published 10 s before, the rotation job looks every 2 s.
            ["Keys__RotationInterval"] = KeyRotationInterval.ToString("c", CultureInfo.InvariantCulture),
            ["Keys__PublishAhead"] = KeyPublishAhead.ToString("c", CultureInfo.InvariantCulture),
            ["Keys__CheckInterval"] = "00:00:02",
            ["Certificates__Encryption__0__Path"] = certificates.EncryptionPath,
            ["Certificates__Encryption__0__Password"] = certificates.Password,
            ["Scheduler__InstanceId"] = name,
            ["Scheduler__CheckinInterval"] = SchedulerInterval.ToString("c", CultureInfo.InvariantCulture),
            ["Pruning__Interval"] = SchedulerInterval.ToString("c", CultureInfo.InvariantCulture),
            ["Sessions__CacheDuration"] = SessionCacheDuration.ToString("c", CultureInfo.InvariantCulture),
            ["Seed__Path"] = Path.Combine(AppContext.BaseDirectory, "Cluster", "seed.json"),
        };
        var process = Add(AppProcess.Start(name, "src/IdentityServer", "IdentityServer.dll", ["--urls", $"http://127.0.0.1:{port}"], environment));
        return new ClusterNode(name, port, process, new ServerClient(http!, new Uri($"http://127.0.0.1:{port}/"), direct: true));
    }

    /// <summary>nginx with the shipped template, its placeholders filled in as deploy/run-cluster.sh does.</summary>
    private AppProcess StartNginx(ClusterCertificates certificates)
    {
        CreateDirectory(NginxFolder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var upstreams = string.Join(' ', Nodes.Select(n => $"server {n.Upstream} max_fails=1 fail_timeout=5s;"));
        // The template's comments name the placeholders: only directives are filled in, and none may be left.
        var lines = File.ReadAllLines(Path.Combine(BuildOutput.RepositoryRoot, "deploy", "nginx.conf.template"))
            .Select(line => line.TrimStart().StartsWith('#') ? line : line
                .Replace("@PREFIX@", NginxFolder, StringComparison.Ordinal)
                .Replace("@LISTEN@", $"127.0.0.1:{Issuer.Port}", StringComparison.Ordinal)
                .Replace("@TLS_CERT@", certificates.TlsCertificatePath, StringComparison.Ordinal)
                .Replace("@TLS_KEY@", certificates.TlsKeyPath, StringComparison.Ordinal)
                .Replace("@UPSTREAMS@", upstreams, StringComparison.Ordinal))
            .ToList();
        if (lines.FirstOrDefault(line => !line.TrimStart().StartsWith('#') && Placeholder().IsMatch(line)) is { } left)
        {
            throw new InvalidOperationException($"deploy/nginx.conf.template has a placeholder the tests do not fill in: {left.Trim()}");
        }
        var path = Path.Combine(NginxFolder, "nginx.conf");
        File.WriteAllLines(path, lines);
        return AppProcess.StartProgram("nginx", ClusterRequirements.NginxPath, NginxFolder,
            ["-p", NginxFolder, "-c", path, "-e", Path.Combine(NginxFolder, "error.log")]);
    }

    private AppProcess Add(AppProcess process)
    {
        processes.Add(process);
        return process;
    }

    private static void CreateDirectory(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, mode);
        }
    }

    private static async Task ExecuteOnServerAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ClusterRequirements.PostgresServer) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    [GeneratedRegex(@"Pruning run for the firing scheduled at (?<time>\S+) on scheduler node (?<node>\S+)")]
    private static partial Regex PruningRun();

    [GeneratedRegex("@[A-Z_]+@")]
    private static partial Regex Placeholder();
}

/// <summary>One pruning run as a node logged it: the firing's scheduled time, the scheduler node it names, and whose output it is in.</summary>
internal sealed record PruningFiring(DateTimeOffset ScheduledAt, string LoggedNode, ClusterNode Node)
{
    public override string ToString() => $"{ScheduledAt:O} logged by {Node.Name} as {LoggedNode}";
}
