using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace IdentityServer.Tests.Hosting.Fuzzing;

/// <summary>What came back: the status, the headers and the body as text; or why nothing did.</summary>
internal sealed record FuzzResponse(string Transport, int Status, IReadOnlyList<(string Name, string Value)> Headers, string Body, string? Failure = null)
{
    public string? Header(string name) => Headers.FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    public static FuzzResponse Nothing(string transport, string failure) => new(transport, 0, [], "", failure);
}

/// <summary>
/// Sends a request to the server's real Kestrel listener over TLS: through HttpClient when it can
/// say exactly these bytes, else (and for a share of the rest) as hand-written HTTP/1.1 on a socket,
/// which is how invalid percent-encodings, raw non-ASCII bytes, control characters and duplicate
/// or missing Host headers reach Kestrel's parser.
/// </summary>
internal sealed class FuzzTransport : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static readonly string[] ContentHeaders = ["Content-Type", "Content-Length", "Content-Encoding", "Content-Language", "Content-Range", "Content-Disposition", "Content-Location", "Content-MD5", "Expires", "Last-Modified", "Allow"];

    private readonly Uri baseAddress;
    private readonly IPEndPoint endPoint;
    private readonly string thumbprint;
    private readonly HttpClient http;

    public FuzzTransport(Uri baseAddress, IPEndPoint endPoint, X509Certificate2 serverCertificate)
    {
        this.baseAddress = baseAddress;
        this.endPoint = endPoint;
        thumbprint = serverCertificate.Thumbprint;
        http = new HttpClient(CreateHandler(endPoint, serverCertificate, cookies: null)) { BaseAddress = baseAddress, Timeout = Timeout };
    }

    /// <summary>An HttpClient handler for the fuzz server: redirects not followed, its certificate trusted, loopback dialled whatever the name.</summary>
    public static SocketsHttpHandler CreateHandler(IPEndPoint endPoint, X509Certificate2 serverCertificate, CookieContainer? cookies)
    {
        var thumbprint = serverCertificate.Thumbprint;
        return new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = cookies is not null,
            CookieContainer = cookies ?? new CookieContainer(),
            AutomaticDecompression = DecompressionMethods.None,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) => IsCertificate(certificate, thumbprint),
            },
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(endPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
    }

    public void Dispose() => http.Dispose();

    public async Task<FuzzResponse> SendAsync(FuzzRequest request)
    {
        if (request.RawOnly || request.PreferRaw || IsOverLimits(request) || ToHttpRequest(request) is not { } message)
        {
            return await SendRawAsync(request);
        }
        using (message)
        {
            try
            {
                using var response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead);
                var headers = response.Headers.Concat(response.Content.Headers)
                    .SelectMany(static h => h.Value.Select(v => (h.Key, v))).ToList();
                var bytes = await response.Content.ReadAsByteArrayAsync();
                return new FuzzResponse("http", (int)response.StatusCode, headers, Encoding.UTF8.GetString(bytes));
            }
            catch (HttpRequestException exception)
            {
                return FuzzResponse.Nothing("http", exception.Message + " " + exception.InnerException?.Message);
            }
            catch (TaskCanceledException)
            {
                return FuzzResponse.Nothing("http", $"no answer within {Timeout.TotalSeconds} s");
            }
        }
    }

    /// <summary>
    /// Kestrel answers a request over its limits (414, 431, 413) and closes the connection while
    /// HttpClient is still writing, which HttpClient reports as a broken pipe without the answer;
    /// the raw socket reads while it writes, so such requests go that way.
    /// </summary>
    private static bool IsOverLimits(FuzzRequest request) =>
        request.Target.Length > 8 * 1024 || request.Headers.Sum(static h => h.Name.Length + h.Value.Length) > 32 * 1024
        || request.BodyBytes()?.Length > 512 * 1024;

    /// <summary>The HttpClient message for the request, or null when HttpClient would not send these exact bytes.</summary>
    private HttpRequestMessage? ToHttpRequest(FuzzRequest request)
    {
        if (request.Host is not null || !Uri.TryCreate(baseAddress, request.Target, out var uri) || uri.PathAndQuery != request.Target)
        {
            return null;
        }
        if (request.Headers.Any(static h => !IsToken(h.Name) || h.Value.Any(static c => c is (< ' ' and not '\t') or > '~'))
            || request.Headers.GroupBy(static h => h.Name, StringComparer.OrdinalIgnoreCase).Any(static g => g.Count() > 1)
            || request.Headers.Any(static h => h.Name.Equals("Host", StringComparison.OrdinalIgnoreCase) || h.Name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }
        var message = new HttpRequestMessage(new HttpMethod(request.Method), uri);
        var body = request.BodyBytes();
        if (body is not null || request.EffectiveContentType is not null || request.Headers.Any(static h => IsContentHeader(h.Name)))
        {
            message.Content = new ByteArrayContent(body ?? []);
            if (request.EffectiveContentType is { } type && !message.Content.Headers.TryAddWithoutValidation("Content-Type", type))
            {
                message.Dispose();
                return null;
            }
        }
        foreach (var (name, value) in request.Headers)
        {
            var added = IsContentHeader(name)
                ? message.Content!.Headers.TryAddWithoutValidation(name, value)
                : message.Headers.TryAddWithoutValidation(name, value);
            if (!added)
            {
                message.Dispose();
                return null;
            }
        }
        return message;
    }

    private async Task<FuzzResponse> SendRawAsync(FuzzRequest request)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(endPoint, timeout.Token);
            await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = baseAddress.Host,
                RemoteCertificateValidationCallback = IsServerCertificate,
            }, timeout.Token);

            // Written while the answer is read: Kestrel may answer (413, 431) and close before taking the whole request.
            var writing = WriteAsync(tls, RawBytes(request), timeout.Token);
            using var received = new MemoryStream();
            await tls.CopyToAsync(received, timeout.Token);
            await writing;
            return Parse(received.ToArray());
        }
        catch (OperationCanceledException)
        {
            return FuzzResponse.Nothing("raw", $"no answer within {Timeout.TotalSeconds} s");
        }
        catch (IOException exception)
        {
            return FuzzResponse.Nothing("raw", exception.Message);
        }
        catch (SocketException exception)
        {
            return FuzzResponse.Nothing("raw", exception.Message);
        }
    }

    private static async Task WriteAsync(Stream stream, byte[] bytes, CancellationToken cancellationToken)
    {
        try
        {
            await stream.WriteAsync(bytes, cancellationToken);
            await stream.FlushAsync(cancellationToken);
        }
        catch (IOException)
        {
            // The server stopped reading (it has answered, or will): what it said is what counts.
        }
    }

    private byte[] RawBytes(FuzzRequest request)
    {
        var body = request.BodyBytes();
        var head = new StringBuilder()
            .Append(request.Method).Append(' ').Append(request.Target).Append(" HTTP/1.1\r\n");
        if (request.Host is null)
        {
            head.Append("Host: ").Append(baseAddress.Authority).Append("\r\n");
        }
        else if (request.Host.Length > 0)
        {
            head.Append("Host: ").Append(request.Host).Append("\r\n");
        }
        if (request.EffectiveContentType is { } type)
        {
            head.Append("Content-Type: ").Append(type).Append("\r\n");
        }
        foreach (var (name, value) in request.Headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }
        if (body is not null && !request.Headers.Any(static h => h.Name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)))
        {
            head.Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n");
        }
        head.Append("Connection: close\r\n\r\n");
        return [.. Encoding.Latin1.GetBytes(head.ToString()), .. body ?? []];
    }

    private static FuzzResponse Parse(byte[] bytes)
    {
        var end = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return FuzzResponse.Nothing("raw", bytes.Length == 0 ? "connection closed without an answer" : "incomplete answer: " + Encoding.Latin1.GetString(bytes, 0, Math.Min(bytes.Length, 200)));
        }
        var lines = Encoding.Latin1.GetString(bytes, 0, end).Split("\r\n");
        var statusParts = lines[0].Split(' ', 3);
        if (statusParts.Length < 2 || !int.TryParse(statusParts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            return FuzzResponse.Nothing("raw", "not an HTTP status line: " + lines[0]);
        }
        var headers = lines.Skip(1).Select(static line => line.Split(':', 2)).Where(static p => p.Length == 2)
            .Select(static p => (p[0].Trim(), p[1].Trim())).ToList();
        var body = bytes.AsSpan(end + 4).ToArray();
        if (headers.Any(static h => h.Item1.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && h.Item2.Contains("chunked", StringComparison.OrdinalIgnoreCase)))
        {
            body = Dechunk(body);
        }
        return new FuzzResponse("raw", status, headers, Encoding.UTF8.GetString(body));
    }

    private static byte[] Dechunk(byte[] bytes)
    {
        using var output = new MemoryStream();
        var position = 0;
        while (position < bytes.Length)
        {
            var lineEnd = bytes.AsSpan(position).IndexOf("\r\n"u8);
            if (lineEnd < 0)
            {
                break;
            }
            var sizeText = Encoding.ASCII.GetString(bytes, position, lineEnd).Split(';')[0];
            if (!int.TryParse(sizeText, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var size) || size == 0)
            {
                break;
            }
            position += lineEnd + 2;
            output.Write(bytes, position, Math.Min(size, bytes.Length - position));
            position += size + 2;
        }
        return output.ToArray();
    }

    private bool IsServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        IsCertificate(certificate, thumbprint);

    private static bool IsCertificate(X509Certificate? certificate, string thumbprint) =>
        certificate is not null && string.Equals(certificate.GetCertHashString(), thumbprint, StringComparison.OrdinalIgnoreCase);

    private static bool IsContentHeader(string name) => ContentHeaders.Contains(name, StringComparer.OrdinalIgnoreCase);

    private static bool IsToken(string name) => name.Length > 0 && name.All(static c => c is > ' ' and < '\x7f' and not ('(' or ')' or '<' or '>' or '@' or ',' or ';' or ':' or '\\' or '"' or '/' or '[' or ']' or '?' or '=' or '{' or '}'));
}
