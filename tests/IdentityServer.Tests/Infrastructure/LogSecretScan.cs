using System.Text.RegularExpressions;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// The checks of <c>tests/scan-logs.sh</c>, for captured log entries: a recorded secret, a JWT or
/// JWE, a data-protection payload (cookies, antiforgery tokens) or a Basic/Bearer credential.
/// Findings name the kind and the record's category, never the secret.
/// </summary>
public static partial class LogSecretScan
{
    [GeneratedRegex(@"eyJ[A-Za-z0-9_-]{10,}\.")]
    private static partial Regex Jwt();

    [GeneratedRegex(@"(Basic|Bearer) [A-Za-z0-9._~+/=-]{16,}", RegexOptions.IgnoreCase)]
    private static partial Regex Credential();

    public static IReadOnlyList<string> Find(IEnumerable<LogEntry> entries, IEnumerable<string> secrets)
    {
        var known = secrets.ToList();
        var findings = new List<string>();
        foreach (var entry in entries)
        {
            var text = entry.Text;
            string? kind = known.Any(s => text.Contains(s, StringComparison.Ordinal)) ? "a secret used by the test"
                : Jwt().IsMatch(text) ? "a JWT or JWE"
                : text.Contains("CfDJ8", StringComparison.Ordinal) ? "a data-protection payload"
                : Credential().IsMatch(text) ? "an Authorization header value"
                : null;
            if (kind is not null)
            {
                findings.Add($"{kind} in a {entry.Level} record of {entry.Category} (event {entry.EventId.Id})");
            }
        }
        return findings;
    }
}
