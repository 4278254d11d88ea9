using System.Net;
using System.Text.RegularExpressions;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Docs;

/// <summary>
/// The README's quick start, run literally: its curl commands and its authorization URL, read from the
/// README itself, against the Development demo set. A README whose requests stop working fails here.
/// </summary>
public sealed partial class QuickStartTests(QuickStartTests.Host factory) : IClassFixture<QuickStartTests.Host>
{
    /// <summary>The server as the quick start runs it: Development, no seed file (the demo set).</summary>
    public sealed class Host : IdentityServerFactory
    {
        public Host()
        {
            EnvironmentName = "Development";
            Settings.Remove("Seed:Path");
            Settings.Remove("IdentityServer:Issuer");
            // Development prints the demo credentials on purpose (they are in the README too); the
            // log scan of a test run must not take them for a leak once this test has sent them.
            TestLogSink.IgnoreAsSecrets([IdentityServer.Seeding.DevelopmentSeed.Password, IdentityServer.Seeding.DevelopmentSeed.WebClientSecret]);
        }
    }

    private const string DocumentedOrigin = "http://localhost:5000";

    [Fact]
    public async Task QuickStart_MachineTokenAndIntrospection_WorkAsWritten()
    {
        var commands = Curls(QuickStartSection());
        using var client = factory.CreateOidcClient();

        var token = await RunAsync(client, commands.Single(c => c.Form.Contains(new("grant_type", "client_credentials"))));
        Assert.Equal(HttpStatusCode.OK, token.Status);
        var accessToken = token["access_token"]!;

        var introspection = await RunAsync(client, commands.Single(c => c.Path == "/connect/introspect"), ("<access_token>", accessToken));
        Assert.Equal(HttpStatusCode.OK, introspection.Status);
        Assert.Equal("true", introspection["active"]);
    }

    [Fact]
    public async Task QuickStart_UserSignInAndCodeExchange_WorkAsWritten()
    {
        var section = QuickStartSection();
        var (login, password) = DemoUser(section);
        var url = AuthorizeUrl().Match(section);
        Assert.True(url.Success, "The quick start has no authorization URL.");

        using var client = factory.CreateOidcClient();
        var redirect = await client.AuthorizeAsync(Parameters(url.Value[DocumentedOrigin.Length..]), login, password);
        var query = OidcTestClient.Query(redirect);
        Assert.True(query.TryGetValue("code", out var code), $"No code in {redirect}");

        var exchange = Curls(section).Single(c => c.Form.Contains(new("grant_type", "authorization_code")));
        var tokens = await RunAsync(client, exchange, ("<code>", code));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        Assert.NotNull(tokens["id_token"]);
        Assert.NotNull(tokens["refresh_token"]);
    }

    private static Dictionary<string, string?> Parameters(string pathAndQuery) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(new Uri(DocumentedOrigin), pathAndQuery).Query)
            .ToDictionary(static p => p.Key, static p => (string?)p.Value.ToString());

    private static async Task<TokenResponse> RunAsync(OidcTestClient client, Curl curl, params (string Placeholder, string Value)[] values) =>
        await client.PostAsync(curl.Path, curl.Form.Select(p =>
            new KeyValuePair<string, string>(p.Key, values.Aggregate(p.Value, static (v, r) => v.Replace(r.Placeholder, r.Value, StringComparison.Ordinal)))));

    /// <summary>The README from "## Quick start" to the next section.</summary>
    private static string QuickStartSection()
    {
        var readme = File.ReadAllText(Repository.File("README.md"));
        var start = readme.IndexOf("\n## Quick start", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no Quick start section.");
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return readme[start..(end < 0 ? readme.Length : end)];
    }

    /// <summary>The demo user's login and password from the quick start's table.</summary>
    private static (string Login, string Password) DemoUser(string section)
    {
        var row = DemoUserRow().Match(section);
        Assert.True(row.Success, "The quick start names no demo user.");
        return (row.Groups["login"].Value, row.Groups["password"].Value);
    }

    /// <summary>Every <c>curl</c> command of the section: its path and its <c>-d</c> form fields.</summary>
    private static List<Curl> Curls(string section)
    {
        var commands = new List<Curl>();
        foreach (var line in section.Replace("\\\n", " ", StringComparison.Ordinal).Split('\n'))
        {
            var words = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0 || words[0] != "curl")
            {
                continue;
            }
            var url = words.Single(static w => w.StartsWith(DocumentedOrigin, StringComparison.Ordinal));
            var form = new List<KeyValuePair<string, string>>();
            for (var i = 0; i < words.Length - 1; i++)
            {
                if (words[i] == "-d")
                {
                    var pair = words[i + 1].Split('=', 2);
                    form.Add(new(pair[0], pair[1]));
                }
            }
            commands.Add(new Curl(url[DocumentedOrigin.Length..], form));
        }
        return commands;
    }

    private sealed record Curl(string Path, List<KeyValuePair<string, string>> Form);

    [GeneratedRegex(@"http://localhost:5000/connect/authorize\?\S+")]
    private static partial Regex AuthorizeUrl();

    [GeneratedRegex(@"\| Demo user \| `(?<login>[^`]+)` / `(?<password>[^`]+)`")]
    private static partial Regex DemoUserRow();
}
