using Microsoft.Playwright;

namespace ClientSamples.EndToEndTests.Infrastructure;

/// <summary>
/// The whole sample landscape as real processes on loopback: the identity provider with the samples'
/// seed (ports rewritten to free ones), the API twice (introspection; local JWT validation) and the web
/// app twice (app 1 calls the introspecting API, app 2 the JWT one). One per test collection, because
/// starting five processes is the expensive part of these tests.
/// </summary>
public sealed class SamplesFixture : IAsyncLifetime
{
    public const string UserName = "alice";
    public const string Password = "Passw0rd!";
    public const string Web1ClientId = "samples-web-1";
    public const string Web1ClientSecret = "samples-web-1-secret-not-for-production";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly TestFolder folder = new("client-samples-e2e");
    private readonly List<AppProcess> processes = [];
    private BrowserHost? chromium;

    public Uri Issuer { get; } = Loopback(BuildOutput.FreePort());

    public Uri Web1 { get; } = Loopback(BuildOutput.FreePort());

    public Uri Web2 { get; } = Loopback(BuildOutput.FreePort());

    public Uri IntrospectionApi { get; } = Loopback(BuildOutput.FreePort());

    public Uri JwtApi { get; } = Loopback(BuildOutput.FreePort());

    /// <summary>The API the introspecting one calls on its callers' behalf, with exchanged tokens (audience samples-downstream-api).</summary>
    public Uri DownstreamApi { get; } = Loopback(BuildOutput.FreePort());

    public IBrowser Browser => chromium?.Browser ?? throw new InvalidOperationException("Chromium was not started: " + Chromium.SkipReason);

    internal AppProcess IdentityServer { get; private set; } = null!;

    internal AppProcess WebApp1 { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(folder.Path);
        var seed = folder.File("seed.json");
        // The real samples seed, with its fixed ports (5002, 5003) replaced by this run's.
        var text = await File.ReadAllTextAsync(Path.Combine(BuildOutput.RepositoryRoot, "src", "ClientSamples", "seed.json"));
        await File.WriteAllTextAsync(seed, text
            .Replace("http://localhost:5002/", Web1.AbsoluteUri, StringComparison.Ordinal)
            .Replace("http://localhost:5003/", Web2.AbsoluteUri, StringComparison.Ordinal));

        IdentityServer = Add(AppProcess.Start("identity provider", "src/IdentityServer", "IdentityServer.dll",
        [
            "--urls", Origin(Issuer),
            $"--ConnectionStrings:Default=Data Source={folder.File("idp.db")}",
            $"--Certificates:DevelopmentPath={folder.File("certs")}",
            $"--DataProtection:KeysPath={folder.File("keys")}",
            $"--Seed:Path={seed}",
            "--Logging:LogLevel:Default=Warning",
        ]));
        var introspectionApi = Add(StartApi(IntrospectionApi, "Introspection", $"--Downstream:BaseAddress={DownstreamApi.AbsoluteUri}"));
        var downstreamApi = Add(StartApi(DownstreamApi, "Jwt", "--Validation:Audience=samples-downstream-api"));
        var jwtApi = Add(StartApi(JwtApi, "Jwt"));
        WebApp1 = Add(StartWebApp(Web1, Web1ClientId, Web1ClientSecret, IntrospectionApi));
        // App 2 refreshes its access token on every request (RefreshBefore exceeds the 15-minute token
        // lifetime), so that a test sees refresh-token rotation without waiting for an expiry.
        var webApp2 = Add(StartWebApp(Web2, "samples-web-2", "samples-web-2-secret-not-for-production", JwtApi, "--WebApp:RefreshBefore=00:20:00"));

        await Task.WhenAll(
            IdentityServer.WaitUntilServingAsync(new Uri(Issuer, ".well-known/openid-configuration"), StartTimeout),
            introspectionApi.WaitUntilServingAsync(IntrospectionApi, StartTimeout),
            jwtApi.WaitUntilServingAsync(JwtApi, StartTimeout),
            downstreamApi.WaitUntilServingAsync(DownstreamApi, StartTimeout),
            WebApp1.WaitUntilServingAsync(Web1, StartTimeout),
            webApp2.WaitUntilServingAsync(Web2, StartTimeout));

        // xunit builds class fixtures even when every browser test is skipped.
        if (Chromium.SkipReason is null)
        {
            chromium = await BrowserHost.LaunchAsync();
        }
    }

    /// <summary>A client-credentials token for the samples' worker, bound to <paramref name="key"/> (the worker's client requires DPoP).</summary>
    internal async Task<string> DPoPWorkerTokenAsync(HttpClient http, DPoPProof key)
    {
        var tokenUrl = new Uri(Issuer, "connect/token");
        using var request = new HttpRequestMessage(HttpMethod.Post, tokenUrl)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = "samples-worker",
                ["client_secret"] = "samples-worker-secret-not-for-production",
                ["scope"] = "samples-api",
            }),
        };
        request.Headers.Add("DPoP", key.For("POST", tokenUrl));
        using var response = await http.SendAsync(request);
        var tokens = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK, tokens.ToString());
        Assert.Equal("DPoP", tokens.GetProperty("token_type").GetString());
        return tokens.GetProperty("access_token").GetString()!;
    }

    /// <summary>The worker, started by the test that watches it (it runs until disposed).</summary>
    internal AppProcess StartWorker(TimeSpan interval) => Add(AppProcess.Start("worker", "src/ClientSamples/Worker", "ClientSamples.Worker.dll",
    [
        $"--Worker:Issuer={Issuer.AbsoluteUri}",
        $"--Worker:ApiBaseAddress={IntrospectionApi.AbsoluteUri}",
        $"--Worker:Interval={interval:c}",
    ]));

    /// <summary>The device-flow CLI, started by the test that drives it (it exits once done).</summary>
    internal AppProcess StartDeviceCli() => Add(AppProcess.Start("device CLI", "src/ClientSamples/DeviceCli", "ClientSamples.DeviceCli.dll",
    [
        $"--DeviceCli:Issuer={Issuer.AbsoluteUri}",
        $"--DeviceCli:ApiUrl={new Uri(IntrospectionApi, "api/hello").AbsoluteUri}",
    ]));

    public async Task DisposeAsync()
    {
        if (chromium is not null)
        {
            await chromium.DisposeAsync();
        }
        foreach (var process in processes)
        {
            await process.DisposeAsync();
        }
        folder.Dispose();
    }

    /// <summary>Everything the apps printed, for a failure message.</summary>
    public string Logs() => string.Join("\n\n", processes.Select(p => $"--- {p.Name} ---\n{p.Tail(40)}"));

    /// <summary>One more API in introspection mode with its answer cache on, started by the test that uses it.</summary>
    internal AppProcess StartCachingApi(Uri url) => Add(StartApi(url, "Introspection", "--Validation:IntrospectionCacheDuration=60"));

    private AppProcess StartApi(Uri url, string mode, params string[] more) => AppProcess.Start($"API ({mode}{(more.Length > 0 ? " " + more[0] : "")})", "src/ClientSamples/Api", "ClientSamples.Api.dll",
    [
        "--urls", Origin(url),
        $"--Validation:Issuer={Issuer.AbsoluteUri}",
        $"--Validation:Mode={mode}",
        .. more,
    ]);

    private AppProcess StartWebApp(Uri url, string clientId, string secret, Uri api, params string[] more) => AppProcess.Start(clientId, "src/ClientSamples/WebApp", "ClientSamples.WebApp.dll",
    [
        "--urls", Origin(url),
        $"--WebApp:Issuer={Issuer.AbsoluteUri}",
        $"--WebApp:ClientId={clientId}",
        $"--WebApp:ClientSecret={secret}",
        $"--WebApp:ApiBaseAddress={api.AbsoluteUri}",
        "--WebApp:ShowTokens=true",
        .. more,
    ]);

    private AppProcess Add(AppProcess process)
    {
        lock (processes)
        {
            processes.Add(process);
        }
        return process;
    }

    // "localhost", as in the seed's redirect URIs, which the identity provider matches exactly.
    private static Uri Loopback(int port) => new($"http://localhost:{port}/");

    private static string Origin(Uri url) => url.GetLeftPart(UriPartial.Authority);
}

[CollectionDefinition(Name)]
public sealed class SamplesDefinition : ICollectionFixture<SamplesFixture>
{
    public const string Name = "Client samples";
}
