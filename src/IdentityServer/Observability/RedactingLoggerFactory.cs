namespace IdentityServer.Observability;

/// <summary>
/// Wraps the logger factory so that every logger, of every library and for every provider
/// (console, JSON, OpenTelemetry, a test's), passes its messages, structured values and exceptions through
/// <see cref="LogRedaction"/>. A record that holds nothing sensitive goes through unchanged; the
/// cost is paid only for records that a provider actually writes.
/// </summary>
internal sealed class RedactingLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();

    private sealed class RedactingLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel))
            {
                return;
            }
            exception = RedactedException.Of(exception);
            string message;
            try
            {
                message = formatter(state, exception);
            }
            catch (Exception formatting) when (formatting is ArgumentException or FormatException or InvalidOperationException)
            {
                // A value that cannot be written (say, a Host header with a broken punycode label in
                // ASP.NET Core's "Request starting") must not fail the request that is being logged.
                inner.Log(logLevel, eventId, new RedactedState($"[this message could not be written: {formatting.GetType().Name}]", []),
                    exception, static (s, _) => s.Message);
                return;
            }
            var redactedMessage = LogRedaction.Redact(message);
            List<KeyValuePair<string, object?>>? redactedValues = null;
            if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                for (var i = 0; i < values.Count; i++)
                {
                    var (key, value) = values[i];
                    // Numbers, dates and enums cannot hold a secret; anything else is checked as written.
                    if (value is null || (value is not string && value is IFormattable) || key == "{OriginalFormat}")
                    {
                        continue;
                    }
                    var text = value.ToString() ?? "";
                    // A value masked in the message (recognised there by its context) is masked here too.
                    var redacted = text.Length > 0 && !ReferenceEquals(redactedMessage, message)
                        && message.Contains(text, StringComparison.Ordinal) && !redactedMessage.Contains(text, StringComparison.Ordinal)
                        ? LogRedaction.Mask
                        : LogRedaction.Redact(text);
                    if (!ReferenceEquals(redacted, text))
                    {
                        redactedValues ??= [.. values];
                        redactedValues[i] = new(key, redacted);
                    }
                }
            }
            if (redactedValues is null && ReferenceEquals(redactedMessage, message))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
                return;
            }
            var pairs = redactedValues ?? (state as IReadOnlyList<KeyValuePair<string, object?>>)?.ToList() ?? [];
            inner.Log(logLevel, eventId, new RedactedState(redactedMessage, pairs), exception, static (s, _) => s.Message);
        }
    }

    /// <summary>
    /// An exception whose text held something sensitive (Kestrel's "Invalid request target" quotes the request
    /// line, query string and all), written in its place: its message, <see cref="ToString"/> and stack trace are
    /// the original's, masked, and name the original's type. An exception with nothing to mask is written as it is.
    /// </summary>
    internal sealed class RedactedException : Exception
    {
        private readonly string text;

        private RedactedException(Exception original, string text)
            : base(original.GetType().FullName + ": " + LogRedaction.Redact(original.Message))
        {
            this.text = text;
            StackTraceText = original.StackTrace;
            HResult = original.HResult;
        }

        private string? StackTraceText { get; }

        public override string? StackTrace => StackTraceText;

        public override string ToString() => text;

        public static Exception? Of(Exception? exception)
        {
            if (exception is null or RedactedException)
            {
                return exception;
            }
            var original = exception.ToString();
            var redacted = LogRedaction.Redact(original);
            return ReferenceEquals(redacted, original) ? exception : new RedactedException(exception, redacted);
        }
    }

    /// <summary>The structured values of a redacted record; its text is the redacted message.</summary>
    private sealed class RedactedState(string message, List<KeyValuePair<string, object?>> values) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public string Message => message;

        public KeyValuePair<string, object?> this[int index] => values[index];

        public int Count => values.Count;

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => values.GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => message;
    }
}
