using System.Net;
using System.Text.Json;
using IdentityServer.Audit;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Admin.AdminTestHelpers;

namespace IdentityServer.Tests.Admin;

/// <summary>
/// Clients registered and deleted through the admin API, without a restart: checked by the seed
/// file's rules, the secret generated and shown once, usable at once, and a deletion that ends every
/// token the client holds. Each change is a security event naming the administrator.
/// </summary>
public sealed class AdminClientsTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task CreateClient_Confidential_SecretShownOnceWorksAtOnce_ThenDeleteEndsItsTokens()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);

        using var created = await PostJsonAsync(admin, token,
            $$"""{ "clientId": "billing", "displayName": "Billing", "grantTypes": ["client_credentials"], "scopes": ["{{TestSeed.ApiScope}}"] }""");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/admin/clients/billing", created.Headers.Location!.OriginalString);
        var answer = await JsonAsync(created);
        var secret = answer.GetProperty("clientSecret").GetString()!;
        Assert.True(secret.Length >= 43, secret);
        Assert.Equal("billing", answer.GetProperty("client").GetProperty("clientId").GetString());
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("client").GetProperty("clientSecret").ValueKind);

        // Usable at once, on this node, with no restart.
        var issued = await admin.TokenAsync(("grant_type", "client_credentials"), ("client_id", "billing"), ("client_secret", secret), ("scope", TestSeed.ApiScope));
        Assert.Equal(HttpStatusCode.OK, issued.Status);

        using var read = await SendAsync(admin.Http, HttpMethod.Get, "/api/admin/clients/billing", token);
        var client = await JsonAsync(read);
        Assert.Equal(["client_credentials"], client.GetProperty("grantTypes").EnumerateArray().Select(static g => g.GetString()));
        Assert.Equal(JsonValueKind.Null, client.GetProperty("clientSecret").ValueKind);
        using var list = await SendAsync(admin.Http, HttpMethod.Get, "/api/admin/clients", token);
        Assert.Contains((await JsonAsync(list)).EnumerateArray(), static c => c.GetProperty("clientId").GetString() == "billing");

        using var deleted = await SendAsync(admin.Http, HttpMethod.Delete, "/api/admin/clients/billing", token);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal("false", (await admin.IntrospectAsync(issued["access_token"]!))["active"]);
        var refused = await admin.TokenAsync(("grant_type", "client_credentials"), ("client_id", "billing"), ("client_secret", secret), ("scope", TestSeed.ApiScope));
        Assert.Equal("invalid_client", refused.Error);
        using var gone = await SendAsync(admin.Http, HttpMethod.Get, "/api/admin/clients/billing", token);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        var events = await factory.WithScopeAsync(async services => await services.GetRequiredService<IdentityServer.Data.ApplicationDbContext>()
            .SecurityEvents.Where(static e => e.ClientId == "billing" && (e.Type == SecurityEventTypes.ClientCreated || e.Type == SecurityEventTypes.ClientDeleted))
            .OrderBy(static e => e.Id).ToListAsync());
        Assert.Equal([SecurityEventTypes.ClientCreated, SecurityEventTypes.ClientDeleted], events.Select(static e => e.Type));
        Assert.All(events, static e => Assert.Equal(TestSeed.AdminClientId, e.Actor));
    }

    [Fact]
    public async Task UpdateClient_NewRedirectUri_TakesEffectAtOnce_SecretKept_EventListsTheChange()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        using var created = await PostJsonAsync(admin, token,
            $$"""{ "clientId": "reports", "displayName": "Reports", "grantTypes": ["client_credentials"], "scopes": ["{{TestSeed.ApiScope}}"] }""");
        var secret = (await JsonAsync(created)).GetProperty("clientSecret").GetString()!;

        using var updated = await SendJsonAsync(admin, token, HttpMethod.Put, "/api/admin/clients/reports",
            """{ "displayName": "Monthly reports", "grantTypes": ["client_credentials"], "scopes": [] }""");

        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal("Monthly reports", (await JsonAsync(updated)).GetProperty("displayName").GetString());
        // The scope was taken away: refused at once. The secret is the same.
        var refused = await admin.TokenAsync(("grant_type", "client_credentials"), ("client_id", "reports"), ("client_secret", secret), ("scope", TestSeed.ApiScope));
        Assert.Equal("invalid_scope", refused.Error);
        var plain = await admin.TokenAsync(("grant_type", "client_credentials"), ("client_id", "reports"), ("client_secret", secret));
        Assert.Equal(HttpStatusCode.OK, plain.Status);
        var change = await factory.WithScopeAsync(async services => await services.GetRequiredService<IdentityServer.Data.ApplicationDbContext>()
            .SecurityEvents.SingleAsync(static e => e.ClientId == "reports" && e.Type == SecurityEventTypes.ClientUpdated));
        Assert.Equal("""displayName: "Reports" → "Monthly reports"; scopes: ["orders"] → none""", change.Detail);
        Assert.Equal(TestSeed.AdminClientId, change.Actor);
    }

    [Theory]
    [InlineData("""{ "clientId": "other", "grantTypes": ["client_credentials"] }""", HttpStatusCode.BadRequest)]
    [InlineData("""{ "clientSecret": "mine", "grantTypes": ["client_credentials"] }""", HttpStatusCode.BadRequest)]
    [InlineData("""{ "clientType": "public", "grantTypes": ["authorization_code"], "redirectUris": ["https://shop.example/cb"] }""", HttpStatusCode.Conflict)]
    [InlineData("""{ "grantTypes": ["password"] }""", HttpStatusCode.BadRequest)]
    public async Task UpdateClient_RefusedChange_LeavesTheClientAsItWas(string json, HttpStatusCode expected)
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        using var before = await SendAsync(admin.Http, HttpMethod.Get, "/api/admin/clients/" + TestSeed.ApiClientId, token);
        var original = (await JsonAsync(before)).GetRawText();

        using var response = await SendJsonAsync(admin, token, HttpMethod.Put, "/api/admin/clients/" + TestSeed.ApiClientId, json);

        Assert.Equal(expected, response.StatusCode);
        using var after = await SendAsync(admin.Http, HttpMethod.Get, "/api/admin/clients/" + TestSeed.ApiClientId, token);
        Assert.Equal(original, (await JsonAsync(after)).GetRawText());
    }

    [Theory]
    [InlineData("""{ "clientId": "chosen", "clientSecret": "mine", "grantTypes": ["client_credentials"] }""", "clientSecret", "The server generates client secrets")]
    [InlineData("""{ "clientId": "shop2", "grantTypes": ["authorization_code"], "redirectUris": ["http://shop.example/cb"] }""", "client", "RedirectUris[0]: 'http://shop.example/cb' uses plain http on a non-loopback host")]
    [InlineData("""{ "clientId": "w2", "grantTypes": ["password"] }""", "client", "GrantTypes contains 'password'")]
    [InlineData("""{ "clientId": "w3", "grantTypes": ["client_credentials"], "scopes": ["payments"] }""", "client", "Scopes contains 'payments'")]
    [InlineData("""{ "clientId": "w4", "clientUri": "javascript:alert(1)" }""", "client", "ClientUri: 'javascript:alert(1)' must be an absolute https URL")]
    public async Task CreateClient_BrokenRule_400NamingTheFieldAndTheProblem_NothingCreated(string json, string field, string expected)
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);

        using var response = await PostJsonAsync(admin, token, json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await JsonAsync(response)).GetProperty("errors").GetProperty(field).EnumerateArray().Select(static e => e.GetString()!).ToList();
        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
        var clientId = JsonDocument.Parse(json).RootElement.GetProperty("clientId").GetString()!;
        using var read = await SendAsync(admin.Http, HttpMethod.Get, "/api/admin/clients/" + clientId, token);
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
    }

    [Fact]
    public async Task CreateClient_ClientIdTaken_409()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);

        using var response = await PostJsonAsync(admin, token, $$"""{ "clientId": "{{TestSeed.WebClientId}}", "grantTypes": ["client_credentials"] }""");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
    }

    [Fact]
    public async Task GetClient_SeededClient_InTheSeedFilesShapeWithoutASecret()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);

        using var response = await SendAsync(admin.Http, HttpMethod.Get, "/api/admin/clients/" + TestSeed.WebClientId, token);

        var client = await JsonAsync(response);
        Assert.Equal("Shop", client.GetProperty("displayName").GetString());
        Assert.Equal("Laden", client.GetProperty("displayNames").GetProperty("de").GetString());
        Assert.Equal("https://shop.example/", client.GetProperty("clientUri").GetString());
        Assert.Equal([TestSeed.WebRedirectUri], client.GetProperty("redirectUris").EnumerateArray().Select(static u => u.GetString()));
        Assert.Contains("openid", client.GetProperty("scopes").EnumerateArray().Select(static s => s.GetString()));
        Assert.True(client.GetProperty("requirePkce").GetBoolean());
        Assert.Equal(JsonValueKind.Null, client.GetProperty("clientSecret").ValueKind);
    }

    private static Task<HttpResponseMessage> PostJsonAsync(OidcTestClient client, string token, string json) =>
        SendJsonAsync(client, token, HttpMethod.Post, "/api/admin/clients", json);
}
