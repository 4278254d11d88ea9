using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IdentityServer.Tests.Hosting.Fuzzing;

/// <summary>
/// The server on real Kestrel with TLS (so Kestrel's own parsing of request lines, headers and
/// encodings is part of what is tested), the test seed plus a device client and a throw-away
/// account the admin API may lock and delete, rate limits off (a flood of 429s tests nothing) and
/// no scheduler (no job fires in the middle of the run).
/// </summary>
public sealed class FuzzServerFactory : IdentityServerFactory
{
    public const string DeviceClientId = "tv";

    /// <summary>The audience the API may ask for in a token exchange.</summary>
    public const string ExchangeAudience = "warehouse-api";
    public const string VictimUserName = "carol";
    public const string VictimPassword = "Carol-Passw0rd!";

    private readonly Lazy<IPEndPoint> endPoint;

    public FuzzServerFactory()
    {
        var seed = JsonNode.Parse(TestSeed.Json)!;
        seed["Clients"]!.AsArray().Add(new JsonObject
        {
            ["ClientId"] = DeviceClientId,
            ["ClientType"] = "public",
            ["DisplayName"] = "Living-room TV",
            ["GrantTypes"] = new JsonArray("urn:ietf:params:oauth:grant-type:device_code", "refresh_token"),
            ["Scopes"] = new JsonArray("openid", "profile", "offline_access", TestSeed.ApiScope),
        });
        // The API may exchange the tokens issued for it (RFC 8693), so that exchanges get past the permission check.
        var api = seed["Clients"]!.AsArray().Single(static c => (string?)c!["ClientId"] == TestSeed.ApiClientId)!;
        api["GrantTypes"] = new JsonArray("urn:ietf:params:oauth:grant-type:token-exchange");
        api["Scopes"] = new JsonArray(TestSeed.ApiScope, "profile");
        api["TokenExchangeAudiences"] = new JsonArray(ExchangeAudience);
        seed["Users"]!.AsArray().Add(new JsonObject
        {
            ["UserName"] = VictimUserName,
            ["Email"] = "carol@example.com",
            ["Password"] = VictimPassword,
        });
        File.WriteAllText(SeedPath, seed.ToJsonString());

        TestLogSink.IgnoreAsSecrets(FuzzGenerator.MistypedValues);
        TestLogSink.IgnoreAsSecrets(FuzzGenerator.BadPercentEncodings);
        TestLogSink.IgnoreAsSecrets([FuzzGenerator.MadeUpUserCode]);
        Settings["RateLimits:Enabled"] = "false";
        Settings["IdentityServer:UserCodeAttemptsPerMinute"] = "1000";
        // Kestrel's default limits stay as the server sets them: they are part of what is tested.
        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(TlsCertificate)));
        endPoint = new Lazy<IPEndPoint>(Start);
    }

    /// <summary>A fresh self-signed certificate for localhost; the fuzz clients trust exactly this one.</summary>
    public X509Certificate2 TlsCertificate { get; } = TestCertificates.CreateTls();

    /// <summary>Where Kestrel listens (loopback, a port the OS picked).</summary>
    public IPEndPoint EndPoint => endPoint.Value;

    /// <summary>The address clients use: the name on the certificate, the port Kestrel got.</summary>
    public Uri Address => new($"https://localhost:{EndPoint.Port}/");

    /// <summary>Every error the server logged, with its exception: what a failure report shows as the cause.</summary>
    public ConcurrentQueue<string> Errors { get; } = new();

    protected override void ConfigureTestServices(IWebHostBuilder builder)
    {
        builder.ConfigureLogging(logging => logging.AddProvider(new ErrorLoggerProvider(Errors)));
        builder.ConfigureTestServices(RemoveScheduler);
    }

    private IPEndPoint Start()
    {
        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.Single()
            ?? throw new InvalidOperationException("The server does not report the address it listens on.");
        return new IPEndPoint(IPAddress.Loopback, new Uri(address).Port);
    }

    private sealed class ErrorLoggerProvider(ConcurrentQueue<string> errors) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                errors.Enqueue(exception is null ? formatter(state, exception) : exception.ToString());
            }
        }

        public void Dispose()
        {
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            TlsCertificate.Dispose();
        }
    }
}
