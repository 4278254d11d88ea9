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

    /// <summary>
    /// The secret rotation and export examples, as written after the first example's token line: a new
    /// secret beside the old one (both work), the old one deleted by the id the listing gives (only the
    /// new one works), and an export the seed loader accepts.
    /// </summary>
    [Fact]
    public async Task RotationAndExportExamples_WorkAsWritten()
    {
        var text = File.ReadAllText(Repository.File("docs", "admin.md"));
        var first = Markdown.Block(text, "sh", "api/admin/users?query=alice");
        var tokenLine = first[..(first.IndexOf("jq -r .access_token)", StringComparison.Ordinal) + "jq -r .access_token)".Length)] + "\n";
        using var folder = new TemporaryFolder();
        var port = ServerProcess.FreePort();
        var origin = $"http://127.0.0.1:{port}";
        using var server = ServerProcess.DotnetRun(folder.Path, origin);
        await server.WaitForLineAsync("Content root path:", TimeSpan.FromSeconds(90));
        string Prepare(string body) => (tokenLine + body).Replace(DocumentedHost, origin, StringComparison.Ordinal)
            .Replace("client_id=ops-automation", "client_id=" + AdminClientId, StringComparison.Ordinal);
        string Script(string marker) => Prepare(Markdown.Block(text, "sh", marker));

        // The documented client, registered as an administrator would.
        var register = $$"""
            curl -s -X POST -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" -d '{"clientId": "reports", "grantTypes": ["client_credentials"]}' {{DocumentedHost}}/api/admin/clients
            curl -s -H "Authorization: Bearer $TOKEN" {{DocumentedHost}}/api/admin/clients/reports/secrets
            """;
        var registered = Answers(await RunAsync(Prepare(register), userId: "", folder.Path));
        var oldSecret = registered[0].GetProperty("clientSecret").GetString()!;
        var oldId = registered[1][0].GetProperty("id").GetString()!;

        var added = Answers(await RunAsync(Script("previousExpiresAt"), userId: "", folder.Path)).Single();
        var newSecret = added.GetProperty("secret").GetString()!;
        using var http = new HttpClient { BaseAddress = new Uri(origin) };
        Assert.True(await WorksAsync(http, oldSecret));
        Assert.True(await WorksAsync(http, newSecret));

        var listed = Answers(await RunAsync(Script("secrets/$OLD_ID"), userId: "", folder.Path, ("OLD_ID", oldId)));
        Assert.Equal([oldId, added.GetProperty("id").GetString()], listed.Single().EnumerateArray().Select(static s => s.GetProperty("id").GetString()));
        Assert.False(await WorksAsync(http, oldSecret));
        Assert.True(await WorksAsync(http, newSecret));

        await RunAsync(Script("api/admin/export"), userId: "", folder.Path);
        var exported = SeedLoader.Load(Path.Combine(folder.Path, "seed.json"));
        Assert.Contains(exported.Clients, static c => c.ClientId == "reports" && c.ClientSecrets!.Count == 1);
        Assert.Contains(exported.Users, static u => u.UserName == DevelopmentSeed.UserName && u.Password is null);
    }

    private static async Task<bool> WorksAsync(HttpClient http, string secret)
    {
        using var response = await http.PostAsync(new Uri("/connect/token", UriKind.Relative), new FormUrlEncodedContent(
            [new("grant_type", "client_credentials"), new("client_id", "reports"), new("client_secret", secret)]));
        return response.IsSuccessStatusCode;
    }

    private static async Task<string> RunAsync(string script, string userId, string? directory = null, params (string Name, string Value)[] variables)
    {
        var start = new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (directory is not null)
        {
            start.WorkingDirectory = directory;
        }
        foreach (var (name, value) in variables)
        {
            start.Environment[name] = value;
        }
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
