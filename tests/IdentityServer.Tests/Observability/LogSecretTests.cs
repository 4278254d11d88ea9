using System.Net;
using System.Net.Http.Headers;
using System.Text;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IdentityServer.Tests.Observability;

/// <summary>Every category at Trace: what an operator could turn on while chasing a problem.</summary>
public sealed class TraceLoggingFactory : IdentityServerFactory
{
    public TraceLoggingFactory()
    {
        Logs.MinimumLevel = LogLevel.Trace;
        Secrets.RecordSettings(Settings);
        Secrets.RecordSeed(TestSeed.Json);
    }

    public SecretRecorder Secrets { get; } = new();

    protected override void ConfigureTestServices(IWebHostBuilder builder)
    {
        builder.ConfigureLogging(static logging => logging.AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace));
        builder.ConfigureServices(services => services.AddSingleton(Secrets.StartupFilter()));
    }
}

/// <summary>
/// The log-secret guarantee on a developer machine: a full flow at Trace level, then no secret,
/// token, cookie or credential it used may appear in any log record (message, exception,
/// structured values or scopes). <c>tests/scan-logs.sh</c> checks the same over a whole test run.
/// </summary>
public sealed class LogSecretTests(TraceLoggingFactory factory) : IClassFixture<TraceLoggingFactory>
{
    private const string WrongPassword = "Wrong-Passw0rd-For-Alice";

    [Fact]
    public async Task Logs_FullFlowAtTraceLevel_HoldNoSecretTokenOrCookie()
    {
        using var browser = factory.CreateOidcClient();

        // Password sign-in, consent, code, tokens (client_secret_post).
        var pkce = Pkce.Create();
        var redirect = await browser.AuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid profile email offline_access orders", pkce));
        var tokens = await browser.TokenAsync(
            ("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]), ("redirect_uri", TestSeed.WebRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);

        // Refresh with client_secret_basic: the credentials travel in the Authorization header.
        using var refreshRequest = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "refresh_token"), new("refresh_token", tokens["refresh_token"]!)]),
        };
        refreshRequest.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestSeed.WebClientId}:{TestSeed.WebClientSecret}")));
        var refreshed = await TokenResponse.ReadAsync(await browser.Http.SendAsync(refreshRequest));
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);

        // User info with the access token as a bearer credential.
        using var userInfoRequest = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        userInfoRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", refreshed["access_token"]);
        using var userInfo = await browser.Http.SendAsync(userInfoRequest);
        Assert.Equal(HttpStatusCode.OK, userInfo.StatusCode);

        Assert.Equal("true", (await browser.IntrospectAsync(refreshed["access_token"]!))["active"]);
        Assert.Equal(HttpStatusCode.OK, (await browser.RevokeAsync(refreshed["refresh_token"]!)).Status);
        // The first refresh token again: reuse detection logs a security event.
        Assert.Equal("invalid_grant", (await browser.RefreshAsync(tokens["refresh_token"]!)).Error);

        var machine = await browser.ClientCredentialsAsync();
        Assert.Equal(HttpStatusCode.OK, machine.Status);

        using (var other = factory.CreateOidcClient())
        {
            var page = await other.NavigateAsync("/Account/Login");
            using var failed = await other.SignInAsync(page, TestSeed.UserName, WrongPassword);
            Assert.Equal(HttpStatusCode.OK, failed.StatusCode);
        }

        foreach (var response in new[] { tokens, refreshed, machine })
        {
            foreach (var name in new[] { "access_token", "refresh_token", "id_token" })
            {
                factory.Secrets.Record(response[name]);
            }
        }

        // The check has something to check: the secrets were seen and the verbose categories logged.
        var secrets = factory.Secrets.Values;
        Assert.Contains(TestSeed.UserPassword, secrets);
        Assert.Contains(WrongPassword, secrets);
        Assert.Contains(TestSeed.WebClientSecret, secrets);
        Assert.Contains(TestSeed.WorkerSecret, secrets);
        Assert.Contains(secrets, static s => s.StartsWith("CfDJ8", StringComparison.Ordinal));
        var entries = factory.Logs.Entries.ToList();
        Assert.Contains(entries, static e => e.Level <= LogLevel.Debug && e.Category.StartsWith("OpenIddict", StringComparison.Ordinal));
        Assert.Contains(entries, static e => e.Level <= LogLevel.Debug && e.Category.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.Contains(entries, static e => e.Category.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal));

        var findings = LogSecretScan.Find(entries, secrets);
        Assert.True(findings.Count == 0, string.Join(Environment.NewLine, findings));
    }
}
