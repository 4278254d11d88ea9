using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// For the log-secret scan of a whole test run (<c>tests/scan-logs.sh</c>). When
/// <c>IDP_TEST_LOG_DIR</c> is set, every test host writes every log record from Debug up, of every
/// category, to <c>server-PID.log</c> in that folder (one line per record: level, category, event
/// id, then message, exception, structured values and scopes), and every secret the run used
/// (see <see cref="SecretRecorder"/>) to <c>secrets-PID.txt</c>.
/// </summary>
public static class TestLogSink
{
    private static readonly string? Folder = Environment.GetEnvironmentVariable("IDP_TEST_LOG_DIR") is { Length: > 0 } folder ? folder : null;
    private static readonly Lock Gate = new();
    private static readonly SecretRecorder Secrets = new(WriteSecret);
    private static StreamWriter? logWriter;
    private static StreamWriter? secretWriter;

    public static bool Enabled => Folder is not null;

    /// <summary>Values the secret list leaves out (see <see cref="SecretRecorder.Ignore"/>).</summary>
    public static void IgnoreAsSecrets(IEnumerable<string> notSecrets) => Secrets.Ignore(notSecrets);

    /// <summary>Adds a value the run's logs must never hold (a link or token a test received by mail).</summary>
    public static void RecordSecret(string secret)
    {
        if (Enabled)
        {
            Secrets.Record(secret);
        }
    }

    /// <summary>Adds the sink to a test host: Debug and up for every category, whatever the configuration says.</summary>
    public static void Attach(IWebHostBuilder builder, IReadOnlyDictionary<string, string?> settings, string seedPath)
    {
        if (!Enabled)
        {
            return;
        }
        Secrets.RecordSettings(settings);
        if (File.Exists(seedPath))
        {
            Secrets.RecordSeed(File.ReadAllText(seedPath));
        }
        builder.ConfigureLogging(static logging =>
        {
            logging.AddProvider(new Provider());
            // A rule for this provider alone beats every category rule of appsettings.
            logging.AddFilter<Provider>(null, LogLevel.Debug);
        });
        builder.ConfigureServices(static services => services.AddSingleton(Secrets.StartupFilter()));
    }

    private static StreamWriter Open(string name)
    {
        Directory.CreateDirectory(Folder!);
        return new StreamWriter(new FileStream(Path.Combine(Folder!, name), FileMode.Append, FileAccess.Write, FileShare.ReadWrite), new UTF8Encoding(false))
        {
            AutoFlush = true,
        };
    }

    private static void WriteSecret(string secret)
    {
        lock (Gate)
        {
            secretWriter ??= Open($"secrets-{Environment.ProcessId}.txt");
            secretWriter.WriteLine(secret);
        }
    }

    private static void Write(LogEntry entry)
    {
        var line = $"{entry.Level}\t{entry.Category}\t{entry.EventId.Id}\t{entry.Text.Replace('\r', ' ').Replace('\n', ' ')}";
        lock (Gate)
        {
            logWriter ??= Open($"server-{Environment.ProcessId}.log");
            logWriter.WriteLine(line);
        }
    }

    /// <summary>The sink's own provider type, so that a filter can give it Debug for every category.</summary>
    private sealed class Provider : ILoggerProvider, ISupportExternalScope
    {
        private readonly CapturingLoggerProvider inner = new(Write) { MinimumLevel = LogLevel.Debug };

        public ILogger CreateLogger(string categoryName) => inner.CreateLogger(categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => inner.SetScopeProvider(scopeProvider);

        public void Dispose() => inner.Dispose();
    }
}
