using System.Net;
using System.Net.Sockets;
using System.Text;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Observability;

/// <summary>The server pushes its metrics over OTLP (HTTP/protobuf) to a collector stand-in run by the test.</summary>
public sealed class OtlpExportTests : IDisposable
{
    private readonly HttpListener collector = new();
    private readonly int port = FreePort();

    public OtlpExportTests()
    {
        collector.Prefixes.Add($"http://127.0.0.1:{port}/");
        collector.Start();
    }

    public void Dispose() => collector.Close();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Otlp_EndpointConfigured_PushesOurInstrumentsAndRequestLatency()
    {
        using var host = new IdentityServerFactory();
        host.Settings["OpenTelemetry:Otlp:Endpoint"] = $"http://127.0.0.1:{port}";
        host.Settings["OpenTelemetry:Otlp:Protocol"] = "http/protobuf";
        host.Settings["OpenTelemetry:ExportInterval"] = "00:00:00.500";
        using var client = host.CreateOidcClient();
        Assert.Equal(HttpStatusCode.OK, (await client.ClientCredentialsAsync()).Status);

        // Each export is cumulative: wait for one that has everything. Metric names travel as
        // plain UTF-8 strings inside the protobuf message.
        string[] expected = ["idp.tokens.issued", "idp.sessions.active", "http.server.request.duration", "identity-server"];
        var seen = new HashSet<string>();
        var paths = new HashSet<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!expected.All(seen.Contains))
        {
            var context = await collector.GetContextAsync().WaitAsync(timeout.Token);
            paths.Add($"{context.Request.HttpMethod} {context.Request.Url!.AbsolutePath} {context.Request.ContentType}");
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body, timeout.Token);
            var payload = Encoding.UTF8.GetString(body.ToArray());
            seen.UnionWith(expected.Where(name => payload.Contains(name, StringComparison.Ordinal)));
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }

        Assert.Equal(["POST /v1/metrics application/x-protobuf"], paths);
    }
}
