using System.Diagnostics;
using System.Text.Json;
using IdentityServer.Seeding;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Docs;

/// <summary>
/// docs/admin.md's shell example, run as written with bash, curl and jq against the quick-start server
/// (<c>dotnet run</c>, the Development demo set): only the host, the client id and <c>$SECRET</c> and
/// <c>$USER_ID</c> are the quick start's. It gets a token, finds alice, and locks her account.
/// </summary>
public sealed class AdminApiExampleTests
{
    private const string DocumentedHost = "https://idp.example.com";

    /// <summary>The quick start's admin automation client (README's demo table).</summary>
    private const string AdminClientId = "demo-admin";
    private const string AdminClientSecret = "demo-admin-secret";

    [Fact]
    public async Task AdminExample_TokenListAndLock_WorkAsWritten()
    {
        Assert.True(File.Exists("/usr/bin/jq") || File.Exists("/usr/local/bin/jq"), "jq is missing (apt-get install jq; .ci/run installs it).");
        var block = Markdown.Block(File.ReadAllText(Repository.File("docs", "admin.md")), "sh", "api/admin/users?query=alice");
        using var folder = new TemporaryFolder();
        var port = ServerProcess.FreePort();
        var origin = $"http://127.0.0.1:{port}";
        using var server = ServerProcess.DotnetRun(folder.Path, origin);
        await server.WaitForLineAsync("Content root path:", TimeSpan.FromSeconds(90));
        var script = block.Replace(DocumentedHost, origin, StringComparison.Ordinal)
            .Replace("client_id=ops-automation", "client_id=" + AdminClientId, StringComparison.Ordinal);

        // First without USER_ID, to read alice's id from the listing as a reader would.
        var listing = await RunAsync(script, userId: "");
        var alice = Answers(listing)[0].GetProperty("items").EnumerateArray()
            .Single(static u => u.GetProperty("userName").GetString() == DevelopmentSeed.UserName);
        var id = alice.GetProperty("id").GetString()!;
        Assert.False(alice.GetProperty("lockedOut").GetBoolean());

        var locked = await RunAsync(script, id);
        Assert.True(Answers(locked)[^1].TryGetProperty("ended", out _), locked);

        var after = await RunAsync(script, userId: "");
        Assert.True(Answers(after)[0].GetProperty("items").EnumerateArray()
            .Single(static u => u.GetProperty("userName").GetString() == DevelopmentSeed.UserName).GetProperty("lockedOut").GetBoolean());
    }

    private static async Task<string> RunAsync(string script, string userId)
    {
        var start = new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["SECRET"] = AdminClientSecret;
        start.Environment["USER_ID"] = userId;
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await process.StandardError.ReadToEndAsync());
        return output;
    }

    /// <summary>The JSON answers curl printed one after the other (curl -s adds no newline between them).</summary>
    private static List<JsonElement> Answers(string output)
    {
        var answers = new List<JsonElement>();
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(output), new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            answers.Add(JsonElement.ParseValue(ref reader));
        }
        return answers;
    }
}
