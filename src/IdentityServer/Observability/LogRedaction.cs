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
/// and JSON.
/// </summary>
internal static partial class LogRedaction
{
    public const string Mask = "[redacted]";

    private const string Names =
        "code|code_verifier|device_code|user_code|client_secret|client_assertion|assertion|password|token|access_token|refresh_token|id_token|id_token_hint|logout_token|reauth|__RequestVerificationToken";

    [GeneratedRegex(
        @"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_.-]*" +
        @"|CfDJ8[A-Za-z0-9_-]+" +
        @"|(?<scheme>\b(?:Basic|Bearer) )[A-Za-z0-9._~+/=-]{8,}" +
        @"|(?<param>(?<=[?&])(?:" + Names + ")=)[^&#\\s\"]+" +
        @"|(?<param>(?<=%3F|%26)(?:" + Names + ")%3D)(?:(?!%26)[^&#\\s\"])+" +
        @"|(?<param>\x22(?:" + Names + @")\x22\s*:\s*\x22)(?!\[redacted\])[^\x22]*" +
        // OpenIddict's Trace record of a reference token (authorization code, device code) it stored.
        @"|(?<param>reference identifier \()[^)]+",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase | RegexOptions.ExplicitCapture)]
    private static partial Regex Sensitive();

    /// <summary>The text with every sensitive value masked; the same instance when there was nothing to mask.</summary>
    public static string Redact(string text) =>
        Sensitive().IsMatch(text)
            ? Sensitive().Replace(text, static match =>
                match.Groups["param"].Success ? match.Groups["param"].Value + Mask
                : match.Groups["scheme"].Success ? match.Groups["scheme"].Value + Mask
                : Mask)
            : text;
}
