using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// For the log-secret scan of a whole test run (<c>tests/scan-logs.sh</c>). When
/// <c>IDP_TEST_LOG_DIR</c> is set, every test host writes every log record from Debug up, of every
/// category, to <c>server-PID.log</c> in that folder (one line per record: level, category, event
/// id, then message, exception, structured values and scopes), and writes every secret the run
/// used to <c>secrets-PID.txt</c>: seed and configuration secrets, and whatever sensitive value a
/// request brought to the server or a response set (passwords, client secrets, codes, tokens,
/// Authorization headers, cookie values).
/// </summary>
public static class TestLogSink
{
    /// <summary>Shorter values (a test's deliberately wrong "x") would match everywhere.</summary>
    private const int MinimumSecretLength = 8;

    private static readonly string? Folder = Environment.GetEnvironmentVariable("IDP_TEST_LOG_DIR") is { Length: > 0 } folder ? folder : null;
    private static readonly Lock Gate = new();
    private static readonly ConcurrentDictionary<string, byte> Recorded = new(StringComparer.Ordinal);
    private static StreamWriter? logWriter;
    private static StreamWriter? secretWriter;

    /// <summary>Request and response fields whose values are secrets.</summary>
    private static readonly HashSet<string> SensitiveFields = new(StringComparer.OrdinalIgnoreCase)
    {
        "client_secret", "client_assertion", "assertion", "code", "code_verifier", "device_code", "user_code",
        "access_token", "refresh_token", "id_token", "id_token_hint", "logout_token", "token", "__RequestVerificationToken",
    };

    public static bool Enabled => Folder is not null;

    /// <summary>Adds the sink to a test host: Debug and up for every category, whatever the configuration says.</summary>
    public static void Attach(IWebHostBuilder builder, IReadOnlyDictionary<string, string?> settings, string seedPath)
    {
        if (!Enabled)
        {
            return;
        }
        foreach (var (key, value) in settings)
        {
            if (key.Contains("Password", StringComparison.OrdinalIgnoreCase) || key.Contains("Secret", StringComparison.OrdinalIgnoreCase))
            {
                RecordSecret(value);
            }
        }
        if (File.Exists(seedPath))
        {
            RecordSeedSecrets(File.ReadAllText(seedPath));
        }
        builder.ConfigureLogging(static logging =>
        {
            logging.AddProvider(new Provider());
            // A rule for this provider alone beats every category rule of appsettings.
            logging.AddFilter<Provider>(null, LogLevel.Debug);
        });
        builder.ConfigureServices(static services => services.AddSingleton<IStartupFilter, RecordingStartupFilter>());
    }

    /// <summary>Records a value the run used as a secret (and its URL-encoded form).</summary>
    public static void RecordSecret(string? value)
    {
        if (!Enabled || value is null || value.Length < MinimumSecretLength || value.Contains('\n', StringComparison.Ordinal))
        {
            return;
        }
        foreach (var form in new[] { value, WebUtility.UrlEncode(value), Uri.EscapeDataString(value) })
        {
            if (Recorded.TryAdd(form, 0))
            {
                lock (Gate)
                {
                    secretWriter ??= Open("secrets");
                    secretWriter.WriteLine(form);
                }
            }
        }
    }

    private static void RecordSeedSecrets(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            Walk(document.RootElement);
        }
        catch (JsonException)
        {
            // A deliberately broken seed (seed validation tests) holds no secret to look for.
        }

        static void Walk(JsonElement element)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Value.ValueKind == JsonValueKind.String
                        && (property.Name.Contains("Secret", StringComparison.OrdinalIgnoreCase) || property.Name.Contains("Password", StringComparison.OrdinalIgnoreCase)))
                    {
                        RecordSecret(property.Value.GetString());
                    }
                    Walk(property.Value);
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item);
                }
            }
        }
    }

    private static StreamWriter Open(string kind)
    {
        Directory.CreateDirectory(Folder!);
        var path = Path.Combine(Folder!, $"{kind}-{Environment.ProcessId}.{(kind == "secrets" ? "txt" : "log")}");
        return new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), new UTF8Encoding(false)) { AutoFlush = true };
    }

    private static void Write(LogEntry entry)
    {
        var line = $"{entry.Level}\t{entry.Category}\t{entry.EventId.Id}\t{entry.Text.Replace('\r', ' ').Replace('\n', ' ')}";
        lock (Gate)
        {
            logWriter ??= Open("server");
            logWriter.WriteLine(line);
        }
    }

    private static bool IsSensitive(string name) =>
        SensitiveFields.Contains(name) || name.Contains("password", StringComparison.OrdinalIgnoreCase) || name.Contains("secret", StringComparison.OrdinalIgnoreCase);

    private static void RecordFields(IEnumerable<KeyValuePair<string, StringValues>> fields)
    {
        foreach (var (name, values) in fields)
        {
            if (IsSensitive(name))
            {
                foreach (var value in values)
                {
                    RecordSecret(value);
                }
            }
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

    /// <summary>Runs first in every test host and notes the secrets each request and response carries.</summary>
    private sealed class RecordingStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(static async (context, nextMiddleware) =>
            {
                var request = context.Request;
                RecordAuthorization(request.Headers.Authorization);
                foreach (var (_, value) in request.Cookies)
                {
                    RecordSecret(value);
                }
                RecordFields(request.Query);
                // The raw body, read and rewound: reading the form here would bypass the server's own form limits.
                if (request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) == true
                    && request.ContentLength is > 0 and <= 64 * 1024)
                {
                    request.EnableBuffering();
                    using (var reader = new StreamReader(request.Body, Encoding.UTF8, leaveOpen: true))
                    {
                        RecordFields(QueryHelpers.ParseQuery(await reader.ReadToEndAsync(context.RequestAborted)));
                    }
                    request.Body.Position = 0;
                }
                context.Response.OnStarting(static state =>
                {
                    var response = (HttpResponse)state;
                    foreach (var cookie in response.Headers.SetCookie)
                    {
                        if (cookie?.Split(';', 2)[0].Split('=', 2) is [_, var value])
                        {
                            RecordSecret(value);
                        }
                    }
                    if (response.Headers.Location.ToString() is { Length: > 0 } location && Uri.TryCreate(new Uri("https://localhost"), location, out var uri))
                    {
                        RecordFields(QueryHelpers.ParseQuery(uri.Query));
                        RecordFields(QueryHelpers.ParseQuery(uri.Fragment.TrimStart('#')));
                    }
                    return Task.CompletedTask;
                }, context.Response);
                await nextMiddleware(context);
            });
            next(app);
        };

        private static void RecordAuthorization(StringValues header)
        {
            foreach (var value in header)
            {
                if (value is null)
                {
                    continue;
                }
                RecordSecret(value);
                var parts = value.Split(' ', 2, StringSplitOptions.TrimEntries);
                if (parts.Length == 2)
                {
                    RecordSecret(parts[1]);
                    if (parts[0].Equals("Basic", StringComparison.OrdinalIgnoreCase))
                    {
                        try
                        {
                            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(parts[1])).Split(':', 2);
                            RecordSecret(pair.Length == 2 ? Uri.UnescapeDataString(pair[1]) : null);
                        }
                        catch (FormatException)
                        {
                            // Not Basic credentials after all: the header value itself is recorded.
                        }
                    }
                }
            }
        }
    }
}
