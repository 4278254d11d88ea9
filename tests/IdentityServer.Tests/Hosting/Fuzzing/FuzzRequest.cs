using System.Globalization;
using System.Text;

namespace IdentityServer.Tests.Hosting.Fuzzing;

/// <summary>How a request's parameters travel in its body.</summary>
internal enum FuzzBody
{
    None,
    Form,
    Json,
    Multipart,
    /// <summary><see cref="FuzzRequest.RawBody"/> as it is.</summary>
    Raw,
}

/// <summary>
/// A parameter. <see cref="Verbatim"/> values go on the wire as written: that is how broken
/// percent-encodings (<c>%ZZ</c>, <c>%C3%28</c>) and raw JSON values (<c>[]</c>, <c>12</c>) are sent.
/// </summary>
internal sealed record FuzzParam(string Name, string Value, bool Verbatim = false);

/// <summary>One generated request, in a form both transports can send: HttpClient when it can express it faithfully, a raw socket otherwise.</summary>
internal sealed class FuzzRequest
{
    private const string Boundary = "fuzz-boundary-7MA4YWxkTrZu0gW";

    public required int Index { get; init; }

    /// <summary>The valid request the mutations started from (authorize, token, ...).</summary>
    public required string Template { get; init; }

    public string Method { get; set; } = "GET";

    public string Path { get; set; } = "/";

    public List<FuzzParam> Query { get; } = [];

    public List<FuzzParam> Form { get; } = [];

    public FuzzBody Body { get; set; } = FuzzBody.None;

    public byte[]? RawBody { get; set; }

    /// <summary>null: the type that fits <see cref="Body"/>; empty: no Content-Type header.</summary>
    public string? ContentType { get; set; }

    /// <summary>Extra header lines, in order; duplicates and odd bytes (chars up to U+00FF, sent as Latin-1) allowed.</summary>
    public List<(string Name, string Value)> Headers { get; } = [];

    /// <summary>null: the server's own host; empty: no Host header at all.</summary>
    public string? Host { get; set; }

    /// <summary>Set by mutations whose bytes HttpClient would refuse or rewrite.</summary>
    public bool RawOnly { get; set; }

    /// <summary>Set by the generator for a share of requests that HttpClient could send too.</summary>
    public bool PreferRaw { get; set; }

    /// <summary>What was done to the valid request, for the failure report.</summary>
    public List<string> Mutations { get; } = [];

    /// <summary>The request target (path and query) exactly as sent.</summary>
    public string Target => Query.Count == 0 ? Path : Path + "?" + EncodeForm(Query);

    public byte[]? BodyBytes() => Body switch
    {
        FuzzBody.None => null,
        FuzzBody.Form => Encoding.Latin1.GetBytes(EncodeForm(Form)),
        FuzzBody.Json => Encoding.UTF8.GetBytes("{" + string.Join(",", Form.Select(static p =>
            JsonString(p.Name) + ":" + (p.Verbatim ? p.Value : JsonString(p.Value)))) + "}"),
        FuzzBody.Multipart => Multipart(),
        FuzzBody.Raw => RawBody ?? [],
        _ => throw new InvalidOperationException(Body.ToString()),
    };

    public string? EffectiveContentType => ContentType switch
    {
        "" => null,
        { } explicitType => explicitType,
        null => Body switch
        {
            FuzzBody.Form => "application/x-www-form-urlencoded",
            FuzzBody.Json => "application/json",
            FuzzBody.Multipart => "multipart/form-data; boundary=" + Boundary,
            FuzzBody.Raw => "application/octet-stream",
            _ => null,
        },
    };

    /// <summary>One line for a failure report: enough to see what was sent, short enough to read.</summary>
    public string Summary(int seed)
    {
        var body = BodyBytes();
        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"seed {seed} #{Index} [{Template}; {string.Join(", ", Mutations)}] ")
            .Append(Method).Append(' ').Append(Shorten(Target, 300));
        if (Host is not null)
        {
            text.Append(" Host='").Append(Shorten(Host, 60)).Append('\'');
        }
        foreach (var (name, value) in Headers)
        {
            text.Append(" | ").Append(Shorten(name, 40)).Append(": ").Append(Shorten(value, 80));
        }
        if (body is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $" | body ({EffectiveContentType ?? "no type"}, {body.Length} B): ")
                .Append(Shorten(Encoding.Latin1.GetString(body, 0, Math.Min(body.Length, 400)), 300));
        }
        return text.ToString();
    }

    /// <summary>The bytes the request contains, to tell a stack-trace marker we sent (and got echoed) from one the server wrote.</summary>
    public string AllText() =>
        Target + "\n" + Host + "\n" + string.Join("\n", Headers.Select(static h => h.Name + ": " + h.Value)) + "\n"
        + string.Join("\n", Form.Select(static p => p.Name + "=" + p.Value)) + "\n"
        + (RawBody is null ? "" : Encoding.Latin1.GetString(RawBody));

    public static string Shorten(string value, int length)
    {
        var printable = new string([.. value.Take(length).Select(static c => c is < ' ' or > '~' ? '·' : c)]);
        return value.Length <= length ? printable : printable + $"…({value.Length} chars)";
    }

    public static string EncodeForm(IEnumerable<FuzzParam> parameters) => string.Join("&", parameters.Select(static p =>
        p.Verbatim ? p.Name + "=" + p.Value : Escape(p.Name) + "=" + Escape(p.Value)));

    /// <summary>Percent-encodes UTF-8 (a lone surrogate becomes U+FFFD, as a browser would send it).</summary>
    public static string Escape(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var text = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            if (b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
                or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~')
            {
                text.Append((char)b);
            }
            else
            {
                text.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
        return text.ToString();
    }

    private static string JsonString(string value) => System.Text.Json.JsonSerializer.Serialize(value);

    private byte[] Multipart()
    {
        using var stream = new MemoryStream();
        foreach (var parameter in Form)
        {
            var head = $"--{Boundary}\r\nContent-Disposition: form-data; name=\"{parameter.Name}\"\r\n\r\n";
            stream.Write(Encoding.UTF8.GetBytes(head));
            stream.Write(parameter.Verbatim ? Encoding.Latin1.GetBytes(parameter.Value) : Encoding.UTF8.GetBytes(parameter.Value));
            stream.Write("\r\n"u8);
        }
        stream.Write(Encoding.ASCII.GetBytes($"--{Boundary}--\r\n"));
        return stream.ToArray();
    }
}
