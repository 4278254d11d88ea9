using System.Net;
using System.Text.Json;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Seeding;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static IdentityServer.Tests.Admin.AdminTestHelpers;

namespace IdentityServer.Tests.Admin;

/// <summary>The admin API's clock is the test's, so that a secret's expiry can pass.</summary>
public sealed class ClientClockFactory : IdentityServerFactory
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override void ConfigureTestServices(IWebHostBuilder builder) =>
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Clock));
}

/// <summary>
/// A client's life after registration, through the admin API with no restart: disabled (refused
/// everywhere, what it holds revoked) and enabled again; its secret rotated without downtime (a second
/// secret beside the first, the first given an expiry or deleted), never left without one.
/// </summary>
public sealed class AdminClientLifecycleTests(ClientClockFactory factory) : IClassFixture<ClientClockFactory>
{
    [Fact]
    public async Task DisableClient_RefusedEverywhere_TokensRevoked_EnableLetsItInAgain()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        var secret = await CreateMachineClientAsync(admin, token, "nightly");
        var issued = await admin.TokenAsync(("grant_type", "client_credentials"), ("client_id", "nightly"), ("client_secret", secret), ("scope", TestSeed.ApiScope));
        Assert.Equal(HttpStatusCode.OK, issued.Status);

        using var disabled = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients/nightly/disable", null);

        Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        Assert.False((await JsonAsync(disabled)).GetProperty("enabled").GetBoolean());
        Assert.Equal("false", (await admin.IntrospectAsync(issued["access_token"]!))["active"]);
        var refused = await admin.TokenAsync(("grant_type", "client_credentials"), ("client_id", "nightly"), ("client_secret", secret), ("scope", TestSeed.ApiScope));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        Assert.Equal("invalid_client", refused.Error);
        Assert.Equal("The client is disabled.", refused["error_description"]);

        using var enabled = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients/nightly/enable", null);

        Assert.True((await JsonAsync(enabled)).GetProperty("enabled").GetBoolean());
        var again = await admin.TokenAsync(("grant_type", "client_credentials"), ("client_id", "nightly"), ("client_secret", secret), ("scope", TestSeed.ApiScope));
        Assert.Equal(HttpStatusCode.OK, again.Status);
        // What it held before stays revoked.
        Assert.Equal("false", (await admin.IntrospectAsync(issued["access_token"]!))["active"]);
        Assert.Equal([SecurityEventTypes.ClientDisabled, SecurityEventTypes.ClientEnabled], await EventTypesAsync("nightly", "client_disabled", "client_enabled"));
    }

    [Fact]
    public async Task DisableClient_AuthorizationRequest_ErrorPageWithoutRedirect_AndItsRefreshTokenStops()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        using var created = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients",
            """{ "clientId": "kiosk", "grantTypes": ["authorization_code", "refresh_token"], "scopes": ["openid", "offline_access"], "redirectUris": ["https://kiosk.example/cb"], "consentType": "implicit" }""");
        var secret = (await JsonAsync(created)).GetProperty("clientSecret").GetString()!;
        using var user = factory.CreateOidcClient();
        var pkce = Pkce.Create();
        var redirect = await user.AuthorizeAsync(OidcTestClient.CodeRequest("kiosk", "https://kiosk.example/cb", "openid offline_access", pkce));
        var tokens = await user.TokenAsync(("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]), ("redirect_uri", "https://kiosk.example/cb"),
            ("code_verifier", pkce.Verifier), ("client_id", "kiosk"), ("client_secret", secret));
        Assert.NotNull(tokens["refresh_token"]);

        using var disabled = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients/kiosk/disable", null);

        using var response = await user.GetAuthorizeAsync(OidcTestClient.CodeRequest("kiosk", "https://kiosk.example/cb", "openid", Pkce.Create()));
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, response.Headers.Location?.ToString());
        Assert.Null(response.Headers.Location);
        var page = await OidcTestClient.ParseAsync(response);
        Assert.Equal("invalid_request", page.QuerySelector("#error-code")!.TextContent);
        await factory.WithScopeAsync(async services =>
        {
            var rows = await services.GetRequiredService<ApplicationDbContext>().Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken>()
                .Where(static t => t.Application!.ClientId == "kiosk").Select(static t => t.Status).ToListAsync();
            Assert.NotEmpty(rows);
            Assert.All(rows, static status => Assert.Equal("revoked", status));
            return true;
        });
    }

    [Fact]
    public async Task PutClient_EnabledFalse_DisablesAndRevokes_DiffNamesIt()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        var secret = await CreateMachineClientAsync(admin, token, "exports");
        var issued = await admin.TokenAsync(("grant_type", "client_credentials"), ("client_id", "exports"), ("client_secret", secret), ("scope", TestSeed.ApiScope));

        using var updated = await SendJsonAsync(admin, token, HttpMethod.Put, "/api/admin/clients/exports",
            $$"""{ "grantTypes": ["client_credentials"], "scopes": ["{{TestSeed.ApiScope}}"], "introspection": true, "enabled": false }""");

        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal("false", (await admin.IntrospectAsync(issued["access_token"]!))["active"]);
        Assert.Equal("invalid_client", (await admin.TokenAsync(("grant_type", "client_credentials"), ("client_id", "exports"), ("client_secret", secret))).Error);
        var change = await factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>()
            .SecurityEvents.SingleAsync(static e => e.ClientId == "exports" && e.Type == SecurityEventTypes.ClientUpdated));
        Assert.Equal("enabled: true → false", change.Detail);
    }

    [Fact]
    public async Task RotateSecret_BothWorkDuringTheRotation_OldOneDeleted_OnlyNewWorks_LastOneKept()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        var first = await CreateMachineClientAsync(admin, token, "ledger");
        var firstId = (await SecretsAsync(admin, token, "ledger")).Single().GetProperty("id").GetString()!;

        using var added = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients/ledger/secrets", "{}");

        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var answer = await JsonAsync(added);
        var second = answer.GetProperty("secret").GetString()!;
        var secondId = answer.GetProperty("id").GetString()!;
        Assert.NotEqual(first, second);
        Assert.True(await WorksAsync(admin, "ledger", first));
        Assert.True(await WorksAsync(admin, "ledger", second));
        var listed = await SecretsAsync(admin, token, "ledger");
        Assert.Equal([firstId, secondId], listed.Select(static s => s.GetProperty("id").GetString()));
        Assert.All(listed, static s => Assert.False(s.TryGetProperty("hash", out _)));
        Assert.DoesNotContain(second, JsonSerializer.Serialize(listed), StringComparison.Ordinal);
        // A third is refused while two are active.
        using var third = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients/ledger/secrets", "{}");
        Assert.Equal(HttpStatusCode.Conflict, third.StatusCode);

        using var removed = await SendJsonAsync(admin, token, HttpMethod.Delete, $"/api/admin/clients/ledger/secrets/{firstId}", null);

        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.False(await WorksAsync(admin, "ledger", first));
        Assert.True(await WorksAsync(admin, "ledger", second));
        using var last = await SendJsonAsync(admin, token, HttpMethod.Delete, $"/api/admin/clients/ledger/secrets/{secondId}", null);
        Assert.Equal(HttpStatusCode.Conflict, last.StatusCode);
        Assert.True(await WorksAsync(admin, "ledger", second));
        var details = await factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>().SecurityEvents
            .Where(static e => e.ClientId == "ledger" && (e.Type == SecurityEventTypes.ClientSecretAdded || e.Type == SecurityEventTypes.ClientSecretRemoved))
            .OrderBy(static e => e.Id).Select(static e => e.Detail).ToListAsync());
        Assert.Equal([$"secret {secondId} added", $"secret {firstId} removed"], details);
    }

    [Fact]
    public async Task RotateSecret_PreviousExpiresAt_OldOneStopsWhenItsTimeComes_EvenWhenRememberedAsGood()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        var first = await CreateMachineClientAsync(admin, token, "payroll");
        Assert.True(await WorksAsync(admin, "payroll", first));
        var cutover = factory.Clock.GetUtcNow().AddHours(2);

        using var added = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients/payroll/secrets",
            $$"""{ "previousExpiresAt": "{{cutover:O}}" }""");
        var second = (await JsonAsync(added)).GetProperty("secret").GetString()!;

        Assert.True(await WorksAsync(admin, "payroll", first));
        Assert.True(await WorksAsync(admin, "payroll", second));
        factory.Clock.Advance(TimeSpan.FromHours(2) + TimeSpan.FromSeconds(1));
        Assert.False(await WorksAsync(admin, "payroll", first));
        Assert.True(await WorksAsync(admin, "payroll", second));
        var listed = await SecretsAsync(admin, await AdminTokenAsync(admin), "payroll");
        Assert.Equal([false, true], listed.Select(static s => s.GetProperty("active").GetBoolean()));
        var detail = await factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>().SecurityEvents
            .Where(static e => e.ClientId == "payroll" && e.Type == SecurityEventTypes.ClientSecretAdded).Select(static e => e.Detail).SingleAsync());
        Assert.EndsWith($"expires {cutover:u}", detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "expiresAt": "2000-01-01T00:00:00Z" }""", "expiresAt")]
    [InlineData("""{ "previousExpiresAt": "2000-01-01T00:00:00Z" }""", "previousExpiresAt")]
    public async Task AddSecret_ExpiryInThePast_400NamingTheField(string json, string field)
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);

        using var response = await SendJsonAsync(admin, token, HttpMethod.Post, $"/api/admin/clients/{TestSeed.WorkerClientId}/secrets", json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await JsonAsync(response)).GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task Secrets_PublicClient409_UnknownClient404()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);

        using var publicClient = await SendJsonAsync(admin, token, HttpMethod.Post, $"/api/admin/clients/{TestSeed.PublicClientId}/secrets", "{}");
        using var unknown = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients/nobody/secrets", "{}");
        using var unknownSecret = await SendJsonAsync(admin, token, HttpMethod.Delete, $"/api/admin/clients/{TestSeed.WorkerClientId}/secrets/nothing", null);

        Assert.Equal(HttpStatusCode.Conflict, publicClient.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownSecret.StatusCode);
    }

    /// <summary>
    /// The seed file's secret is the seeded client's first; once rotated through the API, the next start
    /// does not bring the retired seed secret back.
    /// </summary>
    [Fact]
    public async Task RotateSeededSecret_SeedAppliedAgain_RetiredSeedSecretStaysRetired()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        Assert.Equal(["initial"], (await SecretsAsync(admin, token, TestSeed.WorkerClientId)).Select(static s => s.GetProperty("id").GetString()));
        using var added = await SendJsonAsync(admin, token, HttpMethod.Post, $"/api/admin/clients/{TestSeed.WorkerClientId}/secrets", "{}");
        var second = (await JsonAsync(added)).GetProperty("secret").GetString()!;
        using var removed = await SendJsonAsync(admin, token, HttpMethod.Delete, $"/api/admin/clients/{TestSeed.WorkerClientId}/secrets/initial", null);
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);

        await factory.WithScopeAsync(async services =>
        {
            await services.GetRequiredService<Seeder>().ApplyAsync(SeedLoader.Load(factory.SeedPath), "test", CancellationToken.None);
            return true;
        });

        Assert.False(await WorksAsync(admin, TestSeed.WorkerClientId, TestSeed.WorkerSecret));
        Assert.True(await WorksAsync(admin, TestSeed.WorkerClientId, second));
        Assert.Contains(factory.Logs.Entries, static e => e.Message.Contains("the seed's client secret is not applied", StringComparison.Ordinal));
    }

    /// <summary>
    /// A client's own token lifetimes: shorter than the server's is taken, longer is cut to the server's
    /// (15 minutes for access tokens here), and a refresh token lives the client's refresh lifetime.
    /// </summary>
    [Fact]
    public async Task ClientTokenLifetimes_ShorterTaken_LongerCutToTheServers_RefreshFollows()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        using var created = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients",
            $$"""{ "clientId": "short-lived", "grantTypes": ["client_credentials"], "scopes": ["{{TestSeed.ApiScope}}"], "accessTokenLifetime": "00:05:00" }""");
        var secret = (await JsonAsync(created)).GetProperty("clientSecret").GetString()!;
        var issued = await admin.TokenAsync(("grant_type", "client_credentials"), ("client_id", "short-lived"), ("client_secret", secret));
        Assert.InRange(int.Parse(issued["expires_in"]!, System.Globalization.CultureInfo.InvariantCulture), 295, 300);

        using var updated = await SendJsonAsync(admin, token, HttpMethod.Put, "/api/admin/clients/short-lived",
            $$"""{ "grantTypes": ["client_credentials"], "scopes": ["{{TestSeed.ApiScope}}"], "accessTokenLifetime": "02:00:00" }""");
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var longer = await admin.TokenAsync(("grant_type", "client_credentials"), ("client_id", "short-lived"), ("client_secret", secret));
        Assert.InRange(int.Parse(longer["expires_in"]!, System.Globalization.CultureInfo.InvariantCulture), 895, 900);
        var change = await factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>()
            .SecurityEvents.SingleAsync(static e => e.ClientId == "short-lived" && e.Type == SecurityEventTypes.ClientUpdated));
        Assert.Equal("accessTokenLifetime: \"00:05:00\" → \"02:00:00\"", change.Detail);

        using var web = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients",
            """{ "clientId": "brief", "grantTypes": ["authorization_code", "refresh_token"], "scopes": ["openid", "offline_access"], "redirectUris": ["https://brief.example/cb"], "consentType": "implicit", "introspection": true, "refreshTokenLifetime": "01:00:00" }""");
        var webSecret = (await JsonAsync(web)).GetProperty("clientSecret").GetString()!;
        using var user = factory.CreateOidcClient();
        var pkce = Pkce.Create();
        var redirect = await user.AuthorizeAsync(OidcTestClient.CodeRequest("brief", "https://brief.example/cb", "openid offline_access", pkce));
        var tokens = await user.TokenAsync(("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]), ("redirect_uri", "https://brief.example/cb"),
            ("code_verifier", pkce.Verifier), ("client_id", "brief"), ("client_secret", webSecret));
        var refresh = await user.IntrospectAsync(tokens["refresh_token"]!, "brief", webSecret);
        Assert.Equal(3600, refresh.Json.GetProperty("exp").GetInt64() - refresh.Json.GetProperty("iat").GetInt64());
    }

    [Fact]
    public async Task ClientTokenLifetimes_OutOfRange_400NamingIt()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);

        using var response = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients",
            """{ "clientId": "blink", "grantTypes": ["client_credentials"], "accessTokenLifetime": "00:00:10" }""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("AccessTokenLifetime must be from 00:01:00 to 1.00:00:00", (await response.Content.ReadAsStringAsync()), StringComparison.Ordinal);
    }

    private static async Task<string> CreateMachineClientAsync(OidcTestClient admin, string token, string clientId)
    {
        using var created = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients",
            $$"""{ "clientId": "{{clientId}}", "grantTypes": ["client_credentials"], "scopes": ["{{TestSeed.ApiScope}}"], "introspection": true }""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await JsonAsync(created)).GetProperty("clientSecret").GetString()!;
    }

    /// <summary>Whether the secret authenticates the client at the token endpoint.</summary>
    private static async Task<bool> WorksAsync(OidcTestClient client, string clientId, string secret)
    {
        var response = await client.TokenAsync(("grant_type", "client_credentials"), ("client_id", clientId), ("client_secret", secret));
        Assert.True(response.Status is HttpStatusCode.OK or HttpStatusCode.Unauthorized, response.Status.ToString());
        return response.Status == HttpStatusCode.OK;
    }

    private static async Task<List<JsonElement>> SecretsAsync(OidcTestClient admin, string token, string clientId)
    {
        using var response = await SendJsonAsync(admin, token, HttpMethod.Get, $"/api/admin/clients/{clientId}/secrets", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await JsonAsync(response)).EnumerateArray()];
    }

    private Task<List<string>> EventTypesAsync(string clientId, params string[] types) =>
        factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>().SecurityEvents
            .Where(e => e.ClientId == clientId && types.Contains(e.Type)).OrderBy(static e => e.Id).Select(static e => e.Type).ToListAsync());
}
