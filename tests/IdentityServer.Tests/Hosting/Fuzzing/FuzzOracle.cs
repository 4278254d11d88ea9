using System.Net;
using System.Text.RegularExpressions;

namespace IdentityServer.Tests.Hosting.Fuzzing;

/// <summary>
/// What every answer must satisfy, however hostile the request: no 5xx; no exception detail in the
/// body; a redirect (or a form_post page's form) goes to this server or to exactly a registered
/// redirect URI, never anywhere else.
/// </summary>
internal static partial class FuzzOracle
{
    /// <summary>Text that only an exception report writes. A marker the request itself contained (and the page echoes) does not count.</summary>
    private static readonly string[] StackTraceMarkers = ["   at ", ".cs:line", "--- End of stack trace", "Exception:", "Unhandled exception", "StackTrace"];

    [GeneratedRegex(@"\b(System|Microsoft|OpenIddict|Npgsql)\.[A-Za-z.]*Exception\b")]
    private static partial Regex ExceptionTypeName();

    [GeneratedRegex("<form\\b[^>]*\\baction\\s*=\\s*[\"']([^\"']*)[\"']", RegexOptions.IgnoreCase)]
    private static partial Regex FormAction();

    public static IEnumerable<string> Check(FuzzRequest request, FuzzResponse response, string serverAuthority)
    {
        if (response.Failure is not null)
        {
            // Kestrel answers even a request it cannot parse (400, 413, 414, 431); silence means something broke.
            yield return "no HTTP answer: " + response.Failure;
            yield break;
        }
        if (response.Status >= 500)
        {
            yield return $"status {response.Status}: {FuzzRequest.Shorten(response.Body, 300)}";
        }

        var sent = request.AllText();
        foreach (var marker in StackTraceMarkers)
        {
            if (response.Body.Contains(marker, StringComparison.Ordinal) && !sent.Contains(marker, StringComparison.Ordinal))
            {
                yield return $"body contains '{marker.Trim()}' (status {response.Status}): {Around(response.Body, marker)}";
            }
        }
        if (ExceptionTypeName().Match(response.Body) is { Success: true } typeName && !sent.Contains(typeName.Value, StringComparison.Ordinal))
        {
            yield return $"body names an exception type '{typeName.Value}' (status {response.Status}): {Around(response.Body, typeName.Value)}";
        }

        // Kestrel trims the header's surrounding whitespace, as HTTP says.
        var requestedHost = request.Host is { Length: > 0 } host ? host.Trim(' ', '\t') : serverAuthority;
        if (response.Status is >= 300 and < 400 && response.Header("Location") is { } location
            && !IsAllowedTarget(location, requestedHost, serverAuthority))
        {
            yield return $"status {response.Status} redirects to '{FuzzRequest.Shorten(location, 200)}'";
        }
        foreach (Match form in FormAction().Matches(response.Body))
        {
            var action = WebUtility.HtmlDecode(form.Groups[1].Value);
            if (!IsAllowedTarget(action, requestedHost, serverAuthority))
            {
                yield return $"status {response.Status} page posts a form to '{FuzzRequest.Shorten(action, 200)}'";
            }
        }
    }

    /// <summary>
    /// A path on this server, an absolute URL of the host the client addressed (the server builds
    /// some redirects from the Host header; that reaches only the client that sent it), or one of
    /// the registered URIs exactly, followed by nothing or by a query or fragment.
    /// </summary>
    public static bool IsAllowedTarget(string target, string requestedHost, string serverAuthority)
    {
        if (target.Length == 0)
        {
            return true;
        }
        if (target[0] == '/')
        {
            // "//host" and "/\host" are taken by browsers as another host.
            return target.Length == 1 || target[1] is not ('/' or '\\');
        }
        if (FuzzBaseline.RegisteredUris.Any(uri => target.StartsWith(uri, StringComparison.Ordinal)
            && (target.Length == uri.Length || target[uri.Length] is '?' or '#')))
        {
            return true;
        }
        var schemeEnd = target.IndexOf(':', StringComparison.Ordinal);
        var firstDelimiter = target.IndexOfAny(['/', '?', '#', '\\']);
        if (schemeEnd < 0 || (firstDelimiter >= 0 && firstDelimiter < schemeEnd))
        {
            // A relative reference such as "Login?x": it resolves against this server.
            return !target.Contains('\\', StringComparison.Ordinal);
        }
        // Compared as text: System.Uri refuses some hosts Kestrel accepts (over 255 characters, say).
        return !requestedHost.Contains('@', StringComparison.Ordinal)
            && (target.StartsWith($"https://{requestedHost}/", StringComparison.OrdinalIgnoreCase)
                || target.StartsWith($"https://{serverAuthority}/", StringComparison.OrdinalIgnoreCase));
    }

    private static string Around(string body, string marker)
    {
        var at = body.IndexOf(marker, StringComparison.Ordinal);
        var start = Math.Max(0, at - 150);
        return FuzzRequest.Shorten(body[start..Math.Min(body.Length, at + 250)], 400);
    }
}
