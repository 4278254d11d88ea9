using IdentityServer.Hosting;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Hosting;

/// <summary>
/// <c>dotnet run</c> starts Development by default, and an environment the user names wins over the
/// launch profile's (<c>ASPNETCORE_ENVIRONMENT=Production dotnet run</c> runs Production). A server
/// that cannot start for a configuration reason says why in one paragraph, without a stack trace.
/// </summary>
public sealed class LaunchEnvironmentTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData(null, null, "Development")]
    [InlineData("Production", null, null)]
    [InlineData(null, "Staging", null)]
    public void Choose_UserVariablesWinOverTheLaunchProfile(string? aspNetCore, string? dotnet, string? expected)
    {
        var variables = new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = aspNetCore,
            ["DOTNET_ENVIRONMENT"] = dotnet,
            [LaunchEnvironment.Variable] = "Development",
        };

        Assert.Equal(expected, LaunchEnvironment.Choose([], name => variables.GetValueOrDefault(name)));
    }

    [Theory]
    [InlineData("--environment", "Production")]
    [InlineData("--environment=Production")]
    public void Choose_EnvironmentArgument_WinsOverTheLaunchProfile(params string[] args) =>
        Assert.Null(LaunchEnvironment.Choose(args, name => name == LaunchEnvironment.Variable ? "Development" : null));

    [Fact]
    public void Choose_NoLaunchProfile_LeavesTheDefault() =>
        Assert.Null(LaunchEnvironment.Choose([], static _ => null));

    [Fact]
    public async Task DotnetRun_Default_RunsDevelopment()
    {
        using var folder = new TemporaryFolder();
        using var server = DotnetRun(folder.Path, environment: (string?)null);

        await server.WaitForLineAsync("Content root path:", StartTimeout); // the last of the start-up lines

        Assert.Contains("Hosting environment: Development", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DotnetRun_AspNetCoreEnvironmentProduction_RunsProductionAndExplainsWhatIsMissing()
    {
        using var folder = new TemporaryFolder();
        using var server = DotnetRun(folder.Path, environment: "Production");

        var exitCode = await server.WaitForExitAsync(StartTimeout);

        Assert.Equal(1, exitCode);
        Assert.Contains("The identity provider did not start: IdentityServer:Issuer is not set.", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", server.Output, StringComparison.Ordinal);
    }

    /// <summary>docs/security.md's JSON console logging, set as written: every line the server writes is one JSON object, with its scopes.</summary>
    [Fact]
    public async Task DotnetRun_JsonConsoleLoggingAsDocumented_WritesOneJsonObjectPerLine()
    {
        var block = Markdown.BashBlock(File.ReadAllText(Repository.File("docs", "security.md")), "Logging__Console__FormatterName=json");
        var variables = block.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(static line => line.Split('=', 2)).ToDictionary(static pair => pair[0], static pair => pair[1]);
        Assert.Equal("json", variables["Logging__Console__FormatterName"]);
        using var folder = new TemporaryFolder();
        using var server = DotnetRun(folder.Path, variables);

        await server.WaitForLineAsync("Content root path", StartTimeout);

        // dotnet run's own "Using launch settings from ..." is not the server's.
        var lines = server.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(static line => !line.StartsWith("Using launch settings from ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(lines);
        var plain = lines.Where(static line => !IsJsonLogEntry(line)).ToList();
        Assert.True(plain.Count == 0, "Not JSON: " + string.Join(Environment.NewLine, plain));
        Assert.Contains(lines, static line => line.Contains("\"Scopes\":[", StringComparison.Ordinal));
    }

    private static bool IsJsonLogEntry(string line)
    {
        try
        {
            using var entry = System.Text.Json.JsonDocument.Parse(line);
            return entry.RootElement.TryGetProperty("Message", out _);
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private static ServerProcess DotnetRun(string folder, string? environment) =>
        DotnetRun(folder, environment is null ? null : new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = environment });

    private static ServerProcess DotnetRun(string folder, IReadOnlyDictionary<string, string>? environment) =>
        ServerProcess.DotnetRun(folder, "http://127.0.0.1:0", environment);
}
