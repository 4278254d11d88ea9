using System.Net;
using System.Text.Json;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Admin.AdminTestHelpers;

namespace IdentityServer.Tests.Admin;

/// <summary>
/// Scopes defined, changed and deleted through the admin API with no restart, checked by the seed
/// file's rules; and the whole configuration exported as a seed file that a fresh server accepts and
/// exports again unchanged, with the same secrets working there.
/// </summary>
public sealed class AdminScopesAndExportTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task Scope_DefinedGivenChangedAndDeleted_TokensFollowAtOnce_EachChangeAudited()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        using var created = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/scopes",
            """{ "name": "invoices", "displayName": "Invoices", "resources": ["billing-api"] }""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/admin/scopes/invoices", created.Headers.Location!.OriginalString);
        using var client = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients",
            """{ "clientId": "invoicer", "grantTypes": ["client_credentials"], "scopes": ["invoices"] }""");
        var secret = (await JsonAsync(client)).GetProperty("clientSecret").GetString()!;
        Assert.Equal(["billing-api"], await AudienceAsync(admin, "invoicer", secret, "invoices"));

        using var updated = await SendJsonAsync(admin, token, HttpMethod.Put, "/api/admin/scopes/invoices",
            """{ "displayName": "Invoices", "resources": ["billing-api-v2"] }""");

        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal(["billing-api-v2"], await AudienceAsync(admin, "invoicer", secret, "invoices"));
        using var inUse = await SendJsonAsync(admin, token, HttpMethod.Delete, "/api/admin/scopes/invoices", null);
        Assert.Equal(HttpStatusCode.Conflict, inUse.StatusCode);
        Assert.Contains("invoicer", (await JsonAsync(inUse)).GetProperty("title").GetString(), StringComparison.Ordinal);
        using var unused = await SendJsonAsync(admin, token, HttpMethod.Put, "/api/admin/clients/invoicer", """{ "grantTypes": ["client_credentials"] }""");
        using var deleted = await SendJsonAsync(admin, token, HttpMethod.Delete, "/api/admin/scopes/invoices", null);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await SendJsonAsync(admin, token, HttpMethod.Get, "/api/admin/scopes/invoices", null);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal("invalid_scope", (await admin.TokenAsync(("grant_type", "client_credentials"), ("client_id", "invoicer"), ("client_secret", secret), ("scope", "invoices"))).Error);

        var events = await factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>().SecurityEvents
            .Where(static e => (e.Type == SecurityEventTypes.ScopeCreated || e.Type == SecurityEventTypes.ScopeUpdated || e.Type == SecurityEventTypes.ScopeDeleted)
                && e.Detail!.StartsWith("invoices"))
            .OrderBy(static e => e.Id).Select(static e => new { e.Type, e.Detail, e.Actor }).ToListAsync());
        Assert.Equal([SecurityEventTypes.ScopeCreated, SecurityEventTypes.ScopeUpdated, SecurityEventTypes.ScopeDeleted], events.Select(static e => e.Type));
        Assert.Equal("""invoices: resources: ["billing-api"] → ["billing-api-v2"]""", events[1].Detail);
        Assert.All(events, static e => Assert.Equal(TestSeed.AdminClientId, e.Actor));
    }

    [Theory]
    [InlineData("POST", "/api/admin/scopes", """{ "name": "bad scope" }""", HttpStatusCode.BadRequest, "may contain only printable ASCII")]
    [InlineData("POST", "/api/admin/scopes", """{ "name": "profile" }""", HttpStatusCode.BadRequest, "redefines a standard or built-in scope")]
    [InlineData("POST", "/api/admin/scopes", """{ "name": "reports", "accessTokenClaims": ["password"] }""", HttpStatusCode.BadRequest, "AccessTokenClaims contains 'password'")]
    [InlineData("POST", "/api/admin/scopes", """{ "name": "orders" }""", HttpStatusCode.Conflict, "exists already")]
    [InlineData("PUT", "/api/admin/scopes/idp.admin", """{ "displayName": "Mine" }""", HttpStatusCode.Conflict, "the server's own scope")]
    [InlineData("PUT", "/api/admin/scopes/orders", """{ "name": "orders2" }""", HttpStatusCode.BadRequest, "name cannot change")]
    [InlineData("DELETE", "/api/admin/scopes/openid", null, HttpStatusCode.Conflict, "the server's own scope")]
    [InlineData("PUT", "/api/admin/scopes/nothing", """{ "displayName": "x" }""", HttpStatusCode.NotFound, "No such scope")]
    public async Task Scope_RefusedRequest_NamesTheProblem_ChangesNothing(string method, string path, string? json, HttpStatusCode expected, string problem)
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        using var before = await SendJsonAsync(admin, token, HttpMethod.Get, "/api/admin/scopes", null);
        var scopes = (await JsonAsync(before)).GetRawText();

        using var response = await SendJsonAsync(admin, token, new HttpMethod(method), path, json);

        Assert.Equal(expected, response.StatusCode);
        Assert.Contains(problem, (await response.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        using var after = await SendJsonAsync(admin, token, HttpMethod.Get, "/api/admin/scopes", null);
        Assert.Equal(scopes, (await JsonAsync(after)).GetRawText());
    }

    /// <summary>
    /// The export, given to a fresh server as its seed file: the fresh server starts, the same secrets
    /// (a rotated one included) work there, a disabled client stays disabled, and its own export is the
    /// same file. No secret, password or hash of a password is in it.
    /// </summary>
    [Fact]
    public async Task Export_FreshServerSeededWithIt_SameSecretsWork_ExportsTheSameFile()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        using var scope = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/scopes",
            """{ "name": "archive", "displayName": "Archive", "displayNames": { "de": "Archiv" }, "description": "Read the archive", "resources": ["archive-api"], "accessTokenClaims": ["role"] }""");
        using var created = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients",
            """{ "clientId": "archiver", "displayName": "Archiver", "grantTypes": ["client_credentials"], "scopes": ["archive"] }""");
        using var rotated = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients/archiver/secrets", """{ "expiresAt": "2099-01-01T00:00:00Z" }""");
        var secret = (await JsonAsync(rotated)).GetProperty("secret").GetString()!;
        using var frozen = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients",
            """{ "clientId": "frozen", "grantTypes": ["client_credentials"], "enabled": false }""");
        var frozenSecret = (await JsonAsync(frozen)).GetProperty("clientSecret").GetString()!;

        using var export = await SendJsonAsync(admin, token, HttpMethod.Get, "/api/admin/export?users=true", null);

        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal("seed.json", export.Content.Headers.ContentDisposition?.FileName);
        var file = await export.Content.ReadAsStringAsync();
        foreach (var plain in new[] { secret, frozenSecret, TestSeed.WebClientSecret, TestSeed.AdminClientSecret, TestSeed.UserPassword, "PasswordHash", "\"Password\"" })
        {
            Assert.DoesNotContain(plain, file, StringComparison.Ordinal);
        }
        Assert.Contains("\"ClientSecrets\"", file, StringComparison.Ordinal);
        Assert.Contains(TestSeed.UserName, file, StringComparison.Ordinal);

        using var fresh = new IdentityServerFactory();
        await File.WriteAllTextAsync(fresh.SeedPath, file);
        using var other = fresh.CreateOidcClient();
        var freshToken = await AdminTokenAsync(other);

        var issued = await other.TokenAsync(("grant_type", "client_credentials"), ("client_id", "archiver"), ("client_secret", secret), ("scope", "archive"));
        Assert.Equal(HttpStatusCode.OK, issued.Status);
        Assert.Equal("archive-api", Jwt.Payload(issued["access_token"]!).GetProperty("aud").GetString());
        Assert.Equal("invalid_client", (await other.TokenAsync(("grant_type", "client_credentials"), ("client_id", "frozen"), ("client_secret", frozenSecret))).Error);
        using var again = await SendJsonAsync(other, freshToken, HttpMethod.Get, "/api/admin/export?users=true", null);
        Assert.Equal(file, await again.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// An export moved into the seed file does not undo what an administrator does afterwards: a secret
    /// rotated out stays out (and its replacement works), a client disabled stays disabled.
    /// </summary>
    [Fact]
    public async Task Export_AppliedAsTheSeedAgain_KeepsLaterRotationAndDisabling()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        using var created = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients",
            """{ "clientId": "nightly-export", "grantTypes": ["client_credentials"] }""");
        var old = (await JsonAsync(created)).GetProperty("clientSecret").GetString()!;
        using var other = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients",
            """{ "clientId": "frozen-after", "grantTypes": ["client_credentials"] }""");
        var otherSecret = (await JsonAsync(other)).GetProperty("clientSecret").GetString()!;
        using var export = await SendJsonAsync(admin, token, HttpMethod.Get, "/api/admin/export", null);
        var path = Path.Combine(factory.Folder, "exported-seed.json");
        await File.WriteAllTextAsync(path, await export.Content.ReadAsStringAsync());
        Assert.DoesNotContain("\"Enabled\": true", await File.ReadAllTextAsync(path), StringComparison.Ordinal);

        // After the export: the secret is rotated (the old one deleted), and the client disabled.
        using var listed = await SendJsonAsync(admin, token, HttpMethod.Get, "/api/admin/clients/nightly-export/secrets", null);
        var oldId = (await JsonAsync(listed))[0].GetProperty("id").GetString()!;
        using var added = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients/nightly-export/secrets", "{}");
        var replacement = (await JsonAsync(added)).GetProperty("secret").GetString()!;
        using var removed = await SendJsonAsync(admin, token, HttpMethod.Delete, $"/api/admin/clients/nightly-export/secrets/{oldId}", null);
        using var frozen = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/clients/frozen-after/disable", null);
        Assert.Equal(HttpStatusCode.OK, frozen.StatusCode);

        await factory.WithScopeAsync(async services =>
        {
            await services.GetRequiredService<IdentityServer.Seeding.Seeder>().ApplyAsync(IdentityServer.Seeding.SeedLoader.Load(path), "export", CancellationToken.None);
            return true;
        });

        Assert.Equal("invalid_client", (await admin.TokenAsync(("grant_type", "client_credentials"), ("client_id", "nightly-export"), ("client_secret", old))).Error);
        Assert.Equal(HttpStatusCode.OK, (await admin.TokenAsync(("grant_type", "client_credentials"), ("client_id", "nightly-export"), ("client_secret", replacement))).Status);
        Assert.Equal("invalid_client", (await admin.TokenAsync(("grant_type", "client_credentials"), ("client_id", "frozen-after"), ("client_secret", otherSecret))).Error);
    }

    private static async Task<List<string?>> AudienceAsync(OidcTestClient client, string clientId, string secret, string scope)
    {
        var issued = await client.TokenAsync(("grant_type", "client_credentials"), ("client_id", clientId), ("client_secret", secret), ("scope", scope));
        Assert.Equal(HttpStatusCode.OK, issued.Status);
        var aud = Jwt.Payload(issued["access_token"]!).GetProperty("aud");
        return aud.ValueKind == JsonValueKind.Array ? [.. aud.EnumerateArray().Select(static a => a.GetString())] : [aud.GetString()];
    }
}
