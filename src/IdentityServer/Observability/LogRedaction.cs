using System.Text.RegularExpressions;

namespace IdentityServer.Observability;

/// <summary>
/// Masks what must never reach a log, whoever writes the line: ASP.NET Core logs request URLs with
/// their query string (an end-session <c>id_token_hint</c>, a device flow <c>user_code</c>), and
/// OpenIddict's request logs mask tokens and secrets but not <c>code_verifier</c>, a reference
/// <c>device_code</c>, the antiforgery field of the consent form,
/// our own re-authentication marker, or (at Trace) the reference identifier of a code it stores.
/// Masked: JWTs and JWEs, data-protection payloads (cookies, antiforgery tokens), Basic/Bearer
/// credentials, and the values of sensitive parameters in query strings (plain or URL-encoded)
/// and JSON (a value, an array of values, or JSON escaped inside a string).
/// </summary>
internal static partial class LogRedaction
{
    public const string Mask = "[redacted]";

    // Parameter names whose values are masked: any name that contains one of these words (so that
    // "Input.Password", "client_secret" or a mangled "token%Z" are all covered), and the codes
    // ("code", "device_code", "user_code"; not "code_challenge", which is a hash meant to travel).
    private const string Words = "secret|password|token|assertion|verifier|reauth";
    private const string Codes = "(?:[A-Za-z]+_)?code";
    // Names are bounded (and a query name stops at the next '?'), so that text an attacker controls
    // (a request line, a form value) is scanned in linear time: every record passes through here.
    // A code's name may carry junk after it that is not part of another name ("user_code%C3", as a client with
    // a broken encoder sends it; not "code_challenge").
    private const string QueryName = @"[^=&#?\s""]{0,64}(?:" + Words + @")[^=&#?\s""]{0,64}|" + Codes + @"(?:[^=&#?\s""A-Za-z0-9_][^=&#?\s""]{0,64})?";
    private const string EncodedName = "[A-Za-z0-9._-]{0,64}(?:" + Words + ")[A-Za-z0-9._-]{0,64}|" + Codes;
    private const string JsonName = @"[^\x22]{0,64}(?:" + Words + @")[^\x22]{0,64}|" + Codes + @"(?:[^\x22A-Za-z0-9_][^\x22]{0,64})?";
    // A name inside JSON that is itself inside a JSON string (its quotes escaped): up to a backslash or quote.
    private const string EscapedJsonName = @"[^\\\x22]{0,64}(?:" + Words + @")[^\\\x22]{0,64}|" + Codes + @"(?:[^\\\x22A-Za-z0-9_][^\\\x22]{0,64})?";

    [GeneratedRegex(
        @"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_.-]*" +
        @"|CfDJ8[A-Za-z0-9_-]+" +
        @"|(?<scheme>\b(?:Basic|Bearer) )[A-Za-z0-9._~+/=-]{8,}" +
        @"|(?<param>(?<=[?&])(?:" + QueryName + ")=)[^&#\\s\"]+" +
        @"|(?<param>(?<=%3F|%26)(?:" + EncodedName + ")%3D)(?:(?!%26)[^&#\\s\"])+" +
        // A JSON string value runs to its closing quote: an escaped quote (\") inside it is part of it.
        @"|(?<param>\x22(?:" + JsonName + @")\x22\s*:\s*\x22)(?!\[redacted\])(?:[^\x22\\]|\\.)*" +
        // A repeated parameter, which OpenIddict logs as an array of strings.
        @"|(?<param>\x22(?:" + JsonName + @")\x22\s*:\s*\[)(?:[^\]\x22]|\x22(?:[^\x22\\]|\\.)*\x22)*" +
        // JSON inside a string (a client that posted JSON where a form was expected).
        @"|(?<param>\\\x22(?:" + EscapedJsonName + @")\\\x22\s*:\s*\\\x22)[^\\\x22]*" +
        // ... also when its value is not even quoted.
        @"|(?<param>\\\x22(?:" + EscapedJsonName + @")\\\x22\s*:\s*)(?!\\\x22|\[redacted\])[^\\\x22,}\s]+" +
        // OpenIddict's Trace record of a reference token (authorization code, device code) it stored.
        @"|(?<param>reference identifier \()[^)]+",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 500)]
    private static partial Regex Sensitive();

    /// <summary>The text with every sensitive value masked; the same instance when there was nothing to mask.</summary>
    public static string Redact(string text)
    {
        try
        {
            // Replace hands back the same instance when nothing matched.
            return Sensitive().Replace(text, static match =>
                match.Groups["param"].Success ? match.Groups["param"].Value + Mask
                : match.Groups["scheme"].Success ? match.Groups["scheme"].Value + Mask
                : Mask);
        }
        catch (RegexMatchTimeoutException)
        {
            // Never expected with the bounded patterns above; if it happens, nothing of the text is written.
            return TooComplex;
        }
    }

    /// <summary>What is written instead of a text that could not be scanned in time.</summary>
    public const string TooComplex = "[redacted: the text could not be scanned]";
}
