namespace IdP.Tests.Browser;

/// <summary>Debian's Chromium: Playwright drives it as installed, so no browser download is ever needed.</summary>
internal static class Chromium
{
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>
    /// How long a page action or wait may take (ms). Generous: on a two-core machine the browser shares
    /// the cores with several servers and other test assemblies, and a passing wait ends at once anyway.
    /// </summary>
    public const float DefaultTimeout = 30_000;

    private const string RequireVariable = "IDP_REQUIRE_BROWSER";

    /// <summary>Null when the browser tests must run; CI sets IDP_REQUIRE_BROWSER=1 so that a missing browser fails.</summary>
    public static string? SkipReason =>
        File.Exists(ExecutablePath) || Environment.GetEnvironmentVariable(RequireVariable) == "1"
            ? null
            : $"{ExecutablePath} is not installed (apt-get install chromium); set {RequireVariable}=1 to fail instead of skipping.";

    public static IReadOnlyList<string> Arguments { get; } =
    [
        // Tests run as root in containers, where Chromium's sandbox cannot start.
        "--no-sandbox",
        "--disable-gpu",
        // /dev/shm is tiny in containers; Chromium crashes tabs when it fills up.
        "--disable-dev-shm-usage",
        // No outside network here: background fetches would only slow start-up and log errors.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
    ];
}
