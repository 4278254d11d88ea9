using ClientSamples.EndToEndTests.Infrastructure;

namespace ClientSamples.EndToEndTests.Cluster;

/// <summary>
/// What the multi-node tests need from the machine: a PostgreSQL server whose user may create
/// databases (<c>IDP_TEST_POSTGRES</c>, a connection string), nginx and Chromium. Missing any, they
/// skip, unless <c>IDP_REQUIRE_CLUSTER=1</c> (CI), which makes a missing piece a failure.
/// </summary>
internal static class ClusterRequirements
{
    public const string NginxPath = "/usr/sbin/nginx";

    private const string PostgresVariable = "IDP_TEST_POSTGRES";

    private const string RequireVariable = "IDP_REQUIRE_CLUSTER";

    /// <summary>The PostgreSQL server's connection string; the tests create (and drop) a database of their own on it.</summary>
    public static string? PostgresServer => Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } value ? value : null;

    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    public static IReadOnlyList<string> Missing()
    {
        var missing = new List<string>();
        if (PostgresServer is null)
        {
            missing.Add($"{PostgresVariable} (a PostgreSQL connection string whose user may create databases)");
        }
        if (!File.Exists(NginxPath))
        {
            missing.Add($"{NginxPath} (apt-get install nginx)");
        }
        if (!File.Exists(Chromium.ExecutablePath))
        {
            missing.Add($"{Chromium.ExecutablePath} (apt-get install chromium)");
        }
        return missing;
    }

    /// <summary>Null when the cluster tests must run.</summary>
    public static string? SkipReason => Required || Missing() is not { Count: > 0 } missing
        ? null
        : $"The cluster tests need {string.Join(", ", missing)}; set {RequireVariable}=1 to fail instead of skipping.";

    /// <summary>Fails with everything missing when the tests must run (the skip reason did not apply).</summary>
    public static void ThrowIfMissing()
    {
        if (Missing() is { Count: > 0 } missing)
        {
            throw new InvalidOperationException($"{RequireVariable}=1, but the cluster tests lack: {string.Join("; ", missing)}.");
        }
    }
}
