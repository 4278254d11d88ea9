using System.Net;
using System.Text.Json;
using IdentityServer.Seeding;
using IdentityServer.Sessions;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Admin.AdminTestHelpers;

namespace IdentityServer.Tests.Authorization;

/// <summary>
/// Token exchange (RFC 8693) over real HTTP: the API a user's token was issued for exchanges it for a
/// narrower token to a downstream API it is allowed to name; the result says who acts (act, nested along
/// a chain), is never wider than the subject token, yields no refresh token, and dies with the session.
/// </summary>
public sealed class TokenExchangeTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    private const string TokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange";
    private const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";
    private const string Downstream = "warehouse-api";
    private const string DownstreamSecretHolder = "warehouse-api";

    [Fact]
    public async Task Discovery_ListsTheGrant()
    {
        using var client = factory.CreateBrowserlikeClient();
        var json = JsonDocument.Parse(await client.GetStringAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative))).RootElement;
        Assert.Contains(TokenExchange, json.GetProperty("grant_types_supported").EnumerateArray().Select(static g => g.GetString()));
    }

    [Fact]
    public async Task UserToken_ExchangedByItsApi_ForADownstreamAudience_NarrowerWithActor()
    {
        using var http = factory.CreateOidcClient();
        await AllowOrdersApiToExchangeAsync(http);
        // The user's app gets access tokens for 2 minutes; the server's own lifetime is 15.
        var admin = await AdminTokenAsync(http);
        using var app = await SendJsonAsync(http, admin, HttpMethod.Post, "/api/admin/clients", $$"""
            { "clientId": "short-lived-app", "grantTypes": ["authorization_code", "refresh_token"], "scopes": ["openid", "profile", "offline_access", "{{TestSeed.ApiScope}}"],
              "redirectUris": ["https://short.example/cb"], "consentType": "implicit", "accessTokenLifetime": "00:02:00" }
            """);
        Assert.Equal(HttpStatusCode.Created, app.StatusCode);
        var appSecret = (await JsonAsync(app)).GetProperty("clientSecret").GetString()!;
        var pkce = Pkce.Create();
        var code = OidcTestClient.Query(await http.AuthorizeAsync(OidcTestClient.CodeRequest("short-lived-app", "https://short.example/cb", "openid profile offline_access orders", pkce)))["code"];
        var user = await http.TokenAsync(("grant_type", "authorization_code"), ("code", code), ("redirect_uri", "https://short.example/cb"),
            ("code_verifier", pkce.Verifier), ("client_id", "short-lived-app"), ("client_secret", appSecret));

        // No scope named: the subject token's, which holds offline_access.
        var exchanged = await ExchangeAsync(http, TestSeed.ApiClientId, TestSeed.ApiSecret, user["access_token"]!, ("audience", Downstream));

        Assert.True(exchanged.Status == HttpStatusCode.OK, exchanged.Json.ToString());
        Assert.Equal(AccessTokenType, exchanged["issued_token_type"]);
        Assert.Equal("Bearer", exchanged["token_type"]);
        Assert.Null(exchanged["refresh_token"]);
        var original = Jwt.Payload(user["access_token"]!);
        var payload = Jwt.Payload(exchanged["access_token"]!);
        Assert.Equal(original.GetProperty("sub").GetString(), payload.GetProperty("sub").GetString());
        Assert.Equal(Downstream, Audiences(payload).Single());
        Assert.Equal(TestSeed.ApiClientId, payload.GetProperty("client_id").GetString());
        Assert.Equal(TestSeed.ApiClientId, payload.GetProperty("act").GetProperty("sub").GetString());
        Assert.Equal("openid orders profile", string.Join(' ', payload.GetProperty("scope").GetString()!.Split(' ').Order(StringComparer.Ordinal)));
        Assert.True(payload.GetProperty("exp").GetInt64() <= original.GetProperty("exp").GetInt64(), "An exchanged token outlived its subject token.");
        Assert.True((await Jwt.ValidateAsync(http.Http, exchanged["access_token"]!, Downstream)).IsValid);
    }

    [Fact]
    public async Task WiderScope_UnpermittedAudience_ForeignToken_OrActorToken_Refused()
    {
        using var http = factory.CreateOidcClient();
        await AllowOrdersApiToExchangeAsync(http);
        var user = await http.CodeFlowAsync("openid orders");
        var notForTheApi = await http.CodeFlowAsync("openid profile");

        // profile is a scope the API may use, but not one the user's token has.
        var wider = await ExchangeAsync(http, TestSeed.ApiClientId, TestSeed.ApiSecret, user["access_token"]!, ("scope", "orders profile"), ("audience", Downstream));
        var noTarget = await ExchangeAsync(http, TestSeed.ApiClientId, TestSeed.ApiSecret, user["access_token"]!);
        var refreshAsked = await ExchangeAsync(http, TestSeed.ApiClientId, TestSeed.ApiSecret, user["access_token"]!, ("audience", Downstream),
            ("requested_token_type", "urn:ietf:params:oauth:token-type:refresh_token"));
        var unpermitted = await ExchangeAsync(http, TestSeed.ApiClientId, TestSeed.ApiSecret, user["access_token"]!, ("audience", "payroll-api"));
        var foreign = await ExchangeAsync(http, TestSeed.ApiClientId, TestSeed.ApiSecret, notForTheApi["access_token"]!);
        var actor = await ExchangeAsync(http, TestSeed.ApiClientId, TestSeed.ApiSecret, user["access_token"]!,
            ("actor_token", user["access_token"]!), ("actor_token_type", AccessTokenType));
        var withoutGrant = await ExchangeAsync(http, TestSeed.WorkerClientId, TestSeed.WorkerSecret, user["access_token"]!);
        var byResource = await ExchangeAsync(http, TestSeed.ApiClientId, TestSeed.ApiSecret, user["access_token"]!, ("resource", "https://ledger.example/"));

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_scope"), (wider.Status, wider.Error));
        Assert.Contains("never wider", wider["error_description"], StringComparison.Ordinal);
        // No audience named, and the token's resource (orders-api) is not one the API may ask for.
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_target"), (noTarget.Status, noTarget.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (refreshAsked.Status, refreshAsked.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_target"), (unpermitted.Status, unpermitted.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (foreign.Status, foreign.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (actor.Status, actor.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "unauthorized_client"), (withoutGrant.Status, withoutGrant.Error));
        // The downstream API is named by audience; a resource URL (RFC 8707) is not taken.
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_target"), (byResource.Status, byResource.Error));
    }

    [Fact]
    public async Task Chain_ActNestsTheEarlierActor_AndEndingTheSessionKillsEveryExchangedToken()
    {
        using var http = factory.CreateOidcClient();
        await AllowOrdersApiToExchangeAsync(http);
        var admin = await AdminTokenAsync(http);
        using var created = await SendJsonAsync(http, admin, HttpMethod.Post, "/api/admin/clients", $$"""
            { "clientId": "{{DownstreamSecretHolder}}", "grantTypes": ["{{TokenExchange}}"], "scopes": ["{{TestSeed.ApiScope}}"], "introspection": true,
              "tokenExchangeAudiences": ["ledger-api"] }
            """);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var secret = (await JsonAsync(created)).GetProperty("clientSecret").GetString()!;
        var user = await http.CodeFlowAsync("openid profile offline_access orders");

        var first = await ExchangeAsync(http, TestSeed.ApiClientId, TestSeed.ApiSecret, user["access_token"]!, ("audience", Downstream));
        var second = await ExchangeAsync(http, DownstreamSecretHolder, secret, first["access_token"]!, ("audience", "ledger-api"));

        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal("true", (await http.IntrospectAsync(second["access_token"]!, DownstreamSecretHolder, secret))["active"]);
        var act = Jwt.Payload(second["access_token"]!).GetProperty("act");
        Assert.Equal(DownstreamSecretHolder, act.GetProperty("sub").GetString());
        Assert.Equal(TestSeed.ApiClientId, act.GetProperty("act").GetProperty("sub").GetString());
        Assert.Equal("true", (await http.IntrospectAsync(first["access_token"]!, DownstreamSecretHolder, secret))["active"]);

        // The user's session ends: the tokens exchanged from its token stop with it, and its token cannot be exchanged again.
        var sessionId = Jwt.Payload(user["access_token"]!).GetProperty(SessionService.SessionIdClaim).GetString()!;
        Assert.True(await factory.WithScopeAsync(services => services.GetRequiredService<SessionService>().EndAsync(sessionId, "test", "test", CancellationToken.None)));

        Assert.Equal("false", (await http.IntrospectAsync(first["access_token"]!, DownstreamSecretHolder, secret))["active"]);
        Assert.Equal("false", (await http.IntrospectAsync(second["access_token"]!, DownstreamSecretHolder, secret))["active"]);
        var again = await ExchangeAsync(http, TestSeed.ApiClientId, TestSeed.ApiSecret, user["access_token"]!, ("audience", Downstream));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (again.Status, again.Error));
    }

    [Fact]
    public async Task DPoPBoundSubjectToken_ExchangedByItsApi_ResultBoundToTheApisKey()
    {
        using var http = factory.CreateOidcClient();
        await AllowOrdersApiToExchangeAsync(http);
        using var userKey = new DPoPKey();
        using var apiKey = new DPoPKey();
        var user = await DPoPTests.SendAsync(http, "/connect/token", userKey.Proof("POST", "https://localhost/connect/token"), DPoPTests.WorkerCredentials);
        Assert.Equal("DPoP", user["token_type"]);

        // The worker's token is for orders-api; orders-api exchanges it with a proof of its own key.
        var exchanged = await DPoPTests.SendAsync(http, "/connect/token", apiKey.Proof("POST", "https://localhost/connect/token"),
            ("grant_type", TokenExchange), ("client_id", TestSeed.ApiClientId), ("client_secret", TestSeed.ApiSecret),
            ("subject_token", user["access_token"]!), ("subject_token_type", AccessTokenType), ("audience", Downstream));

        var withoutProof = await ExchangeAsync(http, TestSeed.ApiClientId, TestSeed.ApiSecret, user["access_token"]!, ("audience", Downstream));

        Assert.True(exchanged.Status == HttpStatusCode.OK, exchanged.Json.ToString());
        Assert.Equal("DPoP", exchanged["token_type"]);
        var payload = Jwt.Payload(exchanged["access_token"]!);
        Assert.Equal(apiKey.Thumbprint, payload.GetProperty("cnf").GetProperty("jkt").GetString());
        Assert.Equal(TestSeed.WorkerClientId, payload.GetProperty("sub").GetString());
        // A bound token never comes back unbound.
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_dpop_proof"), (withoutProof.Status, withoutProof.Error));
    }

    [Fact]
    public async Task MachineToken_ExchangedTwice_StaysTheMachinesAlongTheChain()
    {
        using var http = factory.CreateOidcClient();
        await AllowOrdersApiToExchangeAsync(http);
        var admin = await AdminTokenAsync(http);
        using var created = await SendJsonAsync(http, admin, HttpMethod.Post, "/api/admin/clients", $$"""
            { "clientId": "machine-hop", "grantTypes": ["{{TokenExchange}}"], "scopes": ["{{TestSeed.ApiScope}}"], "tokenExchangeAudiences": ["ledger-api"] }
            """);
        var secret = (await JsonAsync(created)).GetProperty("clientSecret").GetString()!;
        var machine = await http.ClientCredentialsAsync();
        var first = await ExchangeAsync(http, TestSeed.ApiClientId, TestSeed.ApiSecret, machine["access_token"]!, ("audience", "machine-hop"));

        var second = await ExchangeAsync(http, "machine-hop", secret, first["access_token"]!, ("audience", "ledger-api"));

        Assert.True(second.Status == HttpStatusCode.OK, second.Json.ToString());
        var payload = Jwt.Payload(second["access_token"]!);
        Assert.Equal(TestSeed.WorkerClientId, payload.GetProperty("sub").GetString());
        Assert.Equal("machine-hop", payload.GetProperty("act").GetProperty("sub").GetString());
        Assert.Equal(TestSeed.ApiClientId, payload.GetProperty("act").GetProperty("act").GetProperty("sub").GetString());
    }

    [Fact]
    public void Seed_TokenExchange_AudiencesRoundTrip_PublicClientAndAudiencesWithoutTheGrantRefused()
    {
        var seed = new SeedClient { ClientId = "svc", ClientSecret = "svc-secret-0123456789", GrantTypes = [TokenExchange], TokenExchangeAudiences = ["b-api", "a-api"] };
        Assert.Equal(["a-api", "b-api"], Seeder.FromDescriptor(Seeder.ToDescriptor(seed)).TokenExchangeAudiences);

        var path = Path.Combine(factory.Folder, "exchange-errors.json");
        File.WriteAllText(path, $$"""
            { "Clients": [
              { "ClientId": "spa-exchange", "ClientType": "public", "GrantTypes": ["{{TokenExchange}}"] },
              { "ClientId": "no-grant", "ClientSecret": "no-grant-secret-0123456789", "GrantTypes": ["client_credentials"], "TokenExchangeAudiences": ["x-api"] }
            ] }
            """);
        var error = Assert.Throws<SeedException>(() => SeedLoader.Load(path));
        Assert.Contains("Clients[0] ('spa-exchange'): a public client cannot use token exchange", error.Message, StringComparison.Ordinal);
        Assert.Contains("Clients[1] ('no-grant'): TokenExchangeAudiences needs the", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The API the users' tokens are for may exchange them for the warehouse API.</summary>
    private static async Task AllowOrdersApiToExchangeAsync(OidcTestClient http)
    {
        var admin = await AdminTokenAsync(http);
        using var updated = await SendJsonAsync(http, admin, HttpMethod.Put, $"/api/admin/clients/{TestSeed.ApiClientId}", $$"""
            { "grantTypes": ["{{TokenExchange}}"], "scopes": ["{{TestSeed.ApiScope}}", "profile"], "introspection": true, "tokenExchangeAudiences": ["{{Downstream}}", "machine-hop"] }
            """);
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
    }

    private static Task<TokenResponse> ExchangeAsync(OidcTestClient http, string clientId, string secret, string subjectToken, params (string Key, string Value)[] more) =>
        http.TokenAsync([("grant_type", TokenExchange), ("client_id", clientId), ("client_secret", secret),
            ("subject_token", subjectToken), ("subject_token_type", AccessTokenType), .. more]);

    private static IEnumerable<string?> Audiences(JsonElement payload) =>
        payload.GetProperty("aud") is { ValueKind: JsonValueKind.Array } list ? list.EnumerateArray().Select(static a => a.GetString()) : [payload.GetProperty("aud").GetString()];
}
