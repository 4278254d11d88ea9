using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Docs;

/// <summary>
/// certs/README.md's commands for an ECDSA P-256 signing certificate, run as written (the password
/// the export asks for is given on its command line), and the server started with the result as its
/// ES256 access-token key.
/// </summary>
public sealed class EcCertificateCommandsTests : IDisposable
{
    private const string Password = "ec-commands-test";
    private readonly string folder = Directory.CreateTempSubdirectory("idp-ec-commands-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public async Task EcCommands_MakeACertificateTheServerSignsAccessTokensWith()
    {
        var script = Markdown.BashBlock(File.ReadAllText(Repository.File("certs", "README.md")), "ec_paramgen_curve:P-256")
            .Replace("# asks for a password", $"-passout pass:{Password}", StringComparison.Ordinal);
        var (exitCode, output) = await RunAsync(script);
        Assert.True(exitCode == 0, output);
        var pfx = Path.Combine(folder, "signing-ec.pfx");
        Assert.False(File.Exists(Path.Combine(folder, "signing-ec.key")), "The private key file was left behind.");

        using var factory = new IdentityServerFactory();
        factory.Settings["IdentityServer:AccessTokenAlgorithm"] = "ES256";
        factory.Settings["Certificates:Signing:1:Path"] = pfx;
        factory.Settings["Certificates:Signing:1:Password"] = Password;
        using var client = factory.CreateOidcClient();
        var token = await client.ClientCredentialsAsync();

        Assert.Equal(HttpStatusCode.OK, token.Status);
        var header = Jwt.Header(token["access_token"]!);
        Assert.Equal("ES256", header.GetProperty("alg").GetString());
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(pfx, Password, X509KeyStorageFlags.EphemeralKeySet);
        Assert.Equal(certificate.Thumbprint, header.GetProperty("kid").GetString());
    }

    private async Task<(int ExitCode, string Output)> RunAsync(string script)
    {
        var start = new ProcessStartInfo("bash", ["-euo", "pipefail", "-c", script])
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }

}
