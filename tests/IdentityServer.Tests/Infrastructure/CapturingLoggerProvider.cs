using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// Keeps every log entry the host writes, with its scopes and exception, so tests can assert that
/// a security event was logged, that a request's lines carry its correlation id, or that no secret was logged.
/// </summary>
public sealed class CapturingLoggerProvider(Action<LogEntry>? sink = null) : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider scopes = new LoggerExternalScopeProvider();

    public CapturingLoggerProvider()
        : this(null)
    {
    }

    public ConcurrentQueue<LogEntry> Entries { get; } = new();

    private readonly Action<LogEntry>? sink = sink;

    /// <summary>The lowest level kept (the host's filters apply first).</summary>
    public LogLevel MinimumLevel { get; set; } = LogLevel.Information;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(string category, CapturingLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider.scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= provider.MinimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            var values = new List<KeyValuePair<string, object?>>();
            if (state is IEnumerable<KeyValuePair<string, object?>> properties)
            {
                values.AddRange(properties);
            }
            var scopeValues = new List<KeyValuePair<string, object?>>();
            provider.scopes.ForEachScope(static (scope, list) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                {
                    list.AddRange(pairs);
                }
                else if (scope is not null)
                {
                    list.Add(new("", scope));
                }
            }, scopeValues);
            var entry = new LogEntry(category, logLevel, eventId, formatter(state, exception), exception?.ToString(), values, scopeValues);
            if (provider.sink is { } write)
            {
                write(entry);
            }
            else
            {
                provider.Entries.Enqueue(entry);
            }
        }
    }
}

/// <summary>One captured log record: its rendered message, structured values, exception text and the scopes open when it was written.</summary>
public sealed record LogEntry(
    string Category, LogLevel Level, EventId EventId, string Message, string? Exception,
    IReadOnlyList<KeyValuePair<string, object?>> Values, IReadOnlyList<KeyValuePair<string, object?>> Scopes)
{
    public string? Scope(string name) => Scopes.LastOrDefault(p => p.Key == name).Value?.ToString();

    /// <summary>Everything a log sink could write for this record, on one line.</summary>
    public string Text => string.Join(" | ", new[] { Message, Exception ?? "" }
        .Concat(Values.Select(static p => $"{p.Key}={p.Value}"))
        .Concat(Scopes.Select(static p => $"{p.Key}={p.Value}")));
}
