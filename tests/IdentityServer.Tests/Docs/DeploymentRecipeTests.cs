using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Docs;

/// <summary>
/// docs/deployment.md's publish and start commands, run as written with the example settings file
/// (deploy/identity-server.env.example): only its paths move to a temporary folder, port 443 to a
/// free one, and the passwords and certificates are this test's. The published server must then
/// answer over HTTPS, in Production, with the configured issuer, and issue a token.
/// </summary>
public sealed class DeploymentRecipeTests
{
    private const string WorkerId = "deploy-worker";
    private const string WorkerSecret = "deploy-worker-secret-0123456789";
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task PublishAndStartRecipe_ServesHttpsInProductionFromTheSettingsFile()
    {
        using var folder = new TemporaryFolder();
        var port = ServerProcess.FreePort();
        var etc = Directory.CreateDirectory(folder.File("etc")).FullName;
        string Localize(string text) => text
            .Replace("/opt/identity-server", folder.File("opt"), StringComparison.Ordinal)
            .Replace("/etc/identity-server", etc, StringComparison.Ordinal)
            .Replace("/var/lib/identity-server", folder.File("var"), StringComparison.Ordinal)
            .Replace("https://0.0.0.0:443", $"https://127.0.0.1:{port}", StringComparison.Ordinal)
            .Replace("change-me", TestCertificates.Password, StringComparison.Ordinal);

        var guide = File.ReadAllText(Repository.File("docs", "deployment.md"));
        // Build output and intermediate files go to the temporary folder, not the source tree in use by this run.
        var publish = Localize(Markdown.BashBlock(guide, "dotnet publish"))
            .Replace("dotnet publish ", $"dotnet publish --artifacts-path {folder.File("artifacts")} ", StringComparison.Ordinal);
        using (var build = ServerProcess.Start("bash", ["-euo", "pipefail", "-c", publish], Repository.Root))
        {
            Assert.True(await build.WaitForExitAsync(PublishTimeout) == 0, build.Output);
        }

        File.WriteAllText(Path.Combine(etc, "identity-server.env"), Localize(File.ReadAllText(Repository.File("deploy", "identity-server.env.example"))));
        File.Copy(TestCertificates.EncryptionPath, Path.Combine(etc, "encryption.pfx"));
        using (var tls = TestCertificates.CreateTls())
        {
            File.WriteAllBytes(Path.Combine(etc, "tls.pfx"), tls.Export(X509ContentType.Pkcs12, TestCertificates.Password));
        }
        File.WriteAllText(Path.Combine(etc, "seed.json"), $$"""
            { "Scopes": [ { "Name": "orders", "Resources": ["orders-api"] } ],
              "Clients": [ { "ClientId": "{{WorkerId}}", "ClientSecret": "{{WorkerSecret}}", "GrantTypes": ["client_credentials"], "Scopes": ["orders"] } ] }
            """);

        using var server = ServerProcess.Start("bash", ["-euo", "pipefail", "-c", Localize(Markdown.BashBlock(guide, "dotnet IdentityServer.dll"))], Repository.Root);
        await server.WaitForLineAsync("Content root path:", StartTimeout); // the last of the start-up lines

        Assert.Contains("Hosting environment: Production", server.Output, StringComparison.Ordinal);
        Assert.Contains($"kept in the folder {folder.File("var")}/keys", server.Output, StringComparison.Ordinal);
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        using var http = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{port}/") };
        var discovery = JsonDocument.Parse(await http.GetStringAsync(new Uri(".well-known/openid-configuration", UriKind.Relative))).RootElement;
        Assert.Equal("https://id.example.com/", discovery.GetProperty("issuer").GetString());
        using var token = await http.PostAsync(new Uri("connect/token", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = WorkerId,
            ["client_secret"] = WorkerSecret,
            ["scope"] = "orders",
        }));
        var body = await token.Content.ReadAsStringAsync();
        Assert.True(token.StatusCode == HttpStatusCode.OK, body);
        Assert.True(JsonDocument.Parse(body).RootElement.TryGetProperty("access_token", out _), body);
    }
}
