using System.Buffers;
using System.Collections;
using System.Diagnostics;

namespace IdentityServer.Hosting;

/// <summary>
/// Gives every request one correlation id: the caller's <c>X-Correlation-Id</c> when it is short
/// and plain, otherwise the W3C trace id of the request. It is echoed in the response and opened as
/// the <c>CorrelationId</c> logging scope, so every log line the request writes (ours, OpenIddict's,
/// ASP.NET Core's, security events) carries it.
/// </summary>
internal sealed class CorrelationIdMiddleware(RequestDelegate next, ILogger<CorrelationIdMiddleware> logger)
{
    public const string HeaderName = "X-Correlation-Id";

    /// <summary>Where the id is kept for the request (the error page shows it as a reference for support).</summary>
    public const string ItemKey = "CorrelationId";

    /// <summary>
    /// What a caller may choose. Anything else (long, or with characters that could forge log
    /// lines or fields) is ignored rather than cleaned, so a log never holds caller-made text here.
    /// </summary>
    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

    private const int MaxLength = 64;

    public async Task InvokeAsync(HttpContext context)
    {
        var id = FromCaller(context.Request.Headers[HeaderName]) ?? Activity.Current?.TraceId.ToHexString() ?? context.TraceIdentifier;
        context.Items[ItemKey] = id;
        // Set when the response starts: the exception handler clears headers before it writes a 500.
        context.Response.OnStarting(static state =>
        {
            var (response, id) = ((HttpResponse, string))state;
            response.Headers[HeaderName] = id;
            return Task.CompletedTask;
        }, (context.Response, id));

        using (logger.BeginScope(new CorrelationScope(id)))
        {
            await next(context);
        }
    }

    internal static string? FromCaller(string? value) =>
        value is { Length: > 0 and <= MaxLength } && !value.AsSpan().ContainsAnyExcept(Allowed) ? value : null;

    /// <summary>
    /// The scope state: one named value, so that the JSON console formatter writes
    /// <c>"CorrelationId": "..."</c> and the simple formatter <c>CorrelationId:...</c>.
    /// </summary>
    private sealed class CorrelationScope(string id) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public KeyValuePair<string, object?> this[int index] =>
            index == 0 ? new("CorrelationId", id) : throw new ArgumentOutOfRangeException(nameof(index));

        public int Count => 1;

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return this[0];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => "CorrelationId:" + id;
    }
}
