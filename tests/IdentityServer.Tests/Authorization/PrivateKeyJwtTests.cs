using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Seeding;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static IdentityServer.Tests.Admin.AdminTestHelpers;

namespace IdentityServer.Tests.Authorization;

/// <summary>
/// private_key_jwt (RFC 7523 2.2, OpenID Connect Core 9): a client registered with its public keys
/// authenticates by a JWT signed with its private key, at every endpoint that authenticates clients.
/// An assertion is used once (its jti), names this server (the issuer alone) and expires soon; every
/// refusal is invalid_client; a key set with private key material is refused.
/// </summary>
public sealed class PrivateKeyJwtTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    private const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    private const string Issuer = "https://localhost/";

    [Fact]
    public async Task Discovery_ListsPrivateKeyJwt()
    {
        using var client = factory.CreateBrowserlikeClient();
        var json = JsonDocument.Parse(await client.GetStringAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative))).RootElement;

        Assert.Contains("private_key_jwt", Strings(json, "token_endpoint_auth_methods_supported"));
        Assert.Contains("private_key_jwt", Strings(json, "introspection_endpoint_auth_methods_supported"));
        Assert.Contains("private_key_jwt", Strings(json, "pushed_authorization_request_endpoint_auth_methods_supported"));
        // RFC 8414 2: an endpoint that lists private_key_jwt lists the signing algorithms too; asymmetric only.
        string[] algorithms = ["ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"];
        Assert.Equal(algorithms, Strings(json, "token_endpoint_auth_signing_alg_values_supported").Order(StringComparer.Ordinal));
        Assert.Equal(algorithms, Strings(json, "introspection_endpoint_auth_signing_alg_values_supported").Order(StringComparer.Ordinal));
        Assert.Equal(algorithms, Strings(json, "revocation_endpoint_auth_signing_alg_values_supported").Order(StringComparer.Ordinal));
    }

    /// <summary>Every algorithm discovery lists authenticates a client whose registered key fits it.</summary>
    [Theory]
    [InlineData("RS256")]
    [InlineData("RS384")]
    [InlineData("RS512")]
    [InlineData("PS256")]
    [InlineData("PS384")]
    [InlineData("PS512")]
    [InlineData("ES256")]
    [InlineData("ES384")]
    [InlineData("ES512")]
    public async Task Assertion_SignedWithEachListedAlgorithm_Authenticates(string algorithm)
    {
        using var http = factory.CreateOidcClient();
        using var rsa = RSA.Create(2048);
        using var ec = ECDsa.Create(algorithm switch
        {
            "ES384" => ECCurve.NamedCurves.nistP384,
            "ES512" => ECCurve.NamedCurves.nistP521,
            _ => ECCurve.NamedCurves.nistP256,
        });
        AsymmetricSecurityKey key = algorithm.StartsWith("ES", StringComparison.Ordinal) ? new ECDsaSecurityKey(ec) : new RsaSecurityKey(rsa);
        var clientId = "alg-" + algorithm.ToLowerInvariant();
        await RegisterAsync(http, clientId, key);
        key.KeyId = key is RsaSecurityKey ? "rsa" : "ec";

        var response = await TokenAsync(http, clientId, Assertion(clientId, new SigningCredentials(key, algorithm), Issuer));

        Assert.True(response.Status == HttpStatusCode.OK, $"{algorithm}: {(int)response.Status} {response.Json}");
    }

    [Fact]
    public async Task ClientCredentials_AssertionForTheIssuer_IssuesToken_NoSecretMade()
    {
        using var key = RSA.Create(2048);
        using var http = factory.CreateOidcClient();
        var created = await RegisterAsync(http, "signer", key);
        Assert.False(created.TryGetProperty("clientSecret", out var secret) && secret.ValueKind == JsonValueKind.String);

        var response = await TokenAsync(http, "signer", Assertion("signer", key, Issuer));

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.NotNull(response["access_token"]);
    }

    [Fact]
    public async Task Assertion_ForTheTokenEndpointUrl_OrTypedJwt_InvalidClient()
    {
        // RFC 7523bis (as OpenIddict 7): the audience is the issuer alone, and the type says what the JWT is for,
        // so that a JWT made for something else cannot pass as a client assertion.
        using var key = RSA.Create(2048);
        using var http = factory.CreateOidcClient();
        await RegisterAsync(http, "endpoint-aud", key);
        var credentials = new SigningCredentials(new RsaSecurityKey(key) { KeyId = "rsa" }, SecurityAlgorithms.RsaSha256);

        var forEndpoint = await TokenAsync(http, "endpoint-aud", Assertion("endpoint-aud", key, Issuer + "connect/token"));
        var typedJwt = await TokenAsync(http, "endpoint-aud", Assertion("endpoint-aud", credentials, Issuer, type: "JWT"));

        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (forEndpoint.Status, forEndpoint.Error));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (typedJwt.Status, typedJwt.Error));
    }

    [Fact]
    public async Task Assertion_OfOneClient_SentAsAnotherClient_InvalidClient()
    {
        using var key = RSA.Create(2048);
        using var other = RSA.Create(2048);
        using var http = factory.CreateOidcClient();
        await RegisterAsync(http, "alpha", key);
        await RegisterAsync(http, "beta", other);

        // alpha's genuine assertion, presented with beta's client_id (OpenIddict answers invalid_grant).
        var response = await TokenAsync(http, "beta", Assertion("alpha", key, Issuer));

        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (response.Status, response.Error));
    }

    [Fact]
    public async Task Assertion_WithoutJti_InvalidClient()
    {
        using var key = RSA.Create(2048);
        using var http = factory.CreateOidcClient();
        await RegisterAsync(http, "no-jti", key);
        var credentials = new SigningCredentials(new RsaSecurityKey(key) { KeyId = "rsa" }, SecurityAlgorithms.RsaSha256);

        var response = await TokenAsync(http, "no-jti", Assertion("no-jti", credentials, Issuer, jti: false));

        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (response.Status, response.Error));
        Assert.Contains("'jti'", response["error_description"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assertion_UsedTwice_SecondUseInvalidClient()
    {
        using var key = RSA.Create(2048);
        using var http = factory.CreateOidcClient();
        await RegisterAsync(http, "once", key);
        var assertion = Assertion("once", key, Issuer);
        Assert.Equal(HttpStatusCode.OK, (await TokenAsync(http, "once", assertion)).Status);

        var replayed = await TokenAsync(http, "once", assertion);

        Assert.Equal(HttpStatusCode.Unauthorized, replayed.Status);
        Assert.Equal("invalid_client", replayed.Error);
    }

    [Fact]
    public async Task Assertion_SignedWithAnotherKey_Expired_LongLived_OrForAnotherServer_InvalidClient()
    {
        using var key = RSA.Create(2048);
        using var other = RSA.Create(2048);
        using var http = factory.CreateOidcClient();
        await RegisterAsync(http, "strict", key);

        foreach (var assertion in new[]
        {
            Assertion("strict", other, Issuer),
            Assertion("strict", key, Issuer, expires: DateTime.UtcNow.AddMinutes(-5)),
            Assertion("strict", key, Issuer, expires: DateTime.UtcNow.AddHours(2)),
            Assertion("strict", key, "https://elsewhere.example/"),
            Assertion("someone-else", key, Issuer),
        })
        {
            var response = await TokenAsync(http, "strict", assertion);
            Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
            Assert.Equal("invalid_client", response.Error);
        }
    }

    [Fact]
    public async Task Assertion_AtIntrospectionRevocationAndPushedAuthorization_Authenticates()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var http = factory.CreateOidcClient();
        var token = await AdminTokenAsync(http);
        using var created = await SendJsonAsync(http, token, HttpMethod.Post, "/api/admin/clients", $$"""
            { "clientId": "keyed-web", "grantTypes": ["authorization_code", "client_credentials"], "scopes": ["openid", "{{TestSeed.ApiScope}}"],
              "redirectUris": ["https://keyed.example/cb"], "introspection": true, "jsonWebKeySet": {{JsonSerializer.Serialize(Jwks(new ECDsaSecurityKey(key)))}} }
            """);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var credentials = new SigningCredentials(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256);
        var issued = await TokenAsync(http, "keyed-web", Assertion("keyed-web", credentials, Issuer));
        Assert.Equal(HttpStatusCode.OK, issued.Status);

        var introspected = await http.PostAsync("/connect/introspect", Form("keyed-web", Assertion("keyed-web", credentials, Issuer), ("token", issued["access_token"]!)));
        var pushed = await http.PostAsync("/connect/par", Form("keyed-web", Assertion("keyed-web", credentials, Issuer),
            ("response_type", "code"), ("redirect_uri", "https://keyed.example/cb"), ("scope", "openid"),
            ("code_challenge", Pkce.Create().Challenge), ("code_challenge_method", "S256")));
        var revoked = await http.PostAsync("/connect/revoke", Form("keyed-web", Assertion("keyed-web", credentials, Issuer), ("token", issued["access_token"]!)));

        Assert.Equal("true", introspected["active"]);
        Assert.Equal(HttpStatusCode.Created, pushed.Status);
        Assert.Equal(HttpStatusCode.OK, revoked.Status);
        Assert.Equal("false", (await http.PostAsync("/connect/introspect", Form("keyed-web", Assertion("keyed-web", credentials, Issuer), ("token", issued["access_token"]!))))["active"]);
    }

    [Fact]
    public async Task Assertion_AtTheDeviceAuthorizationEndpoint_Authenticates_WrongKeyInvalidClient()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var http = factory.CreateOidcClient();
        var token = await AdminTokenAsync(http);
        using var created = await SendJsonAsync(http, token, HttpMethod.Post, "/api/admin/clients", $$"""
            { "clientId": "keyed-tv", "grantTypes": ["urn:ietf:params:oauth:grant-type:device_code"], "scopes": ["openid", "{{TestSeed.ApiScope}}"],
              "jsonWebKeySet": {{JsonSerializer.Serialize(Jwks(new ECDsaSecurityKey(key)))}} }
            """);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var device = await http.PostAsync("/connect/device", Form("keyed-tv",
            Assertion("keyed-tv", new SigningCredentials(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256), Issuer), ("scope", "openid")));
        var wrongKey = await http.PostAsync("/connect/device", Form("keyed-tv",
            Assertion("keyed-tv", new SigningCredentials(new ECDsaSecurityKey(other), SecurityAlgorithms.EcdsaSha256), Issuer), ("scope", "openid")));

        Assert.Equal(HttpStatusCode.OK, device.Status);
        Assert.False(string.IsNullOrEmpty(device["device_code"]));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (wrongKey.Status, wrongKey.Error));
    }

    [Fact]
    public async Task Keys_ReplacedThroughTheAdminApi_NewKeyWorks_OldKeyRefused_DiffNamesTheKeys()
    {
        using var oldKey = RSA.Create(2048);
        using var newKey = RSA.Create(2048);
        using var http = factory.CreateOidcClient();
        await RegisterAsync(http, "rotating", oldKey);
        var token = await AdminTokenAsync(http);

        using var updated = await SendJsonAsync(http, token, HttpMethod.Put, "/api/admin/clients/rotating", $$"""
            { "grantTypes": ["client_credentials"], "scopes": ["{{TestSeed.ApiScope}}"],
              "jsonWebKeySet": {{JsonSerializer.Serialize(Jwks(new RsaSecurityKey(newKey.ExportParameters(false)) { KeyId = "next" }))}} }
            """);

        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await TokenAsync(http, "rotating", Assertion("rotating", newKey, Issuer))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await TokenAsync(http, "rotating", Assertion("rotating", oldKey, Issuer))).Status);
        var change = await factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>()
            .SecurityEvents.SingleAsync(static e => e.ClientId == "rotating" && e.Type == SecurityEventTypes.ClientUpdated));
        Assert.Equal("jsonWebKeySet: [rsa] → [next]", change.Detail);
        // Keys only, no secret: the keys cannot be dropped.
        using var keyless = await SendJsonAsync(http, token, HttpMethod.Put, "/api/admin/clients/rotating",
            $$"""{ "grantTypes": ["client_credentials"], "scopes": ["{{TestSeed.ApiScope}}"] }""");
        Assert.Equal(HttpStatusCode.BadRequest, keyless.StatusCode);
    }

    [Fact]
    public void Seed_KeySetWithPrivateKeyMaterial_OrOnAPublicClient_RefusedAtLoad()
    {
        using var key = RSA.Create(2048);
        var parameters = key.ExportParameters(true);
        var withPrivate = JsonSerializer.Serialize(new { keys = new[] { new {
            kty = "RSA", n = Base64UrlEncoder.Encode(parameters.Modulus), e = Base64UrlEncoder.Encode(parameters.Exponent), d = Base64UrlEncoder.Encode(parameters.D) } } });
        var path = Path.Combine(factory.Folder, "private-keys.json");
        File.WriteAllText(path, $$"""
            { "Clients": [
              { "ClientId": "leaky", "JsonWebKeySet": {{withPrivate}}, "GrantTypes": ["client_credentials"] },
              { "ClientId": "spa-keys", "ClientType": "public", "JsonWebKeySet": {{JsonSerializer.Serialize(Jwks(new RsaSecurityKey(key.ExportParameters(false))))}},
                "GrantTypes": ["authorization_code"], "RedirectUris": ["http://127.0.0.1:7890/callback"] },
              { "ClientId": "leaky-upper", "JsonWebKeySet": {{withPrivate.Replace("\"d\":", "\"D\":", StringComparison.Ordinal)}}, "GrantTypes": ["client_credentials"] }
            ] }
            """);

        var error = Assert.Throws<SeedException>(() => SeedLoader.Load(path));

        Assert.Contains("Clients[0] ('leaky'): JsonWebKeySet keys[0] holds private key material (\"d\")", error.Message, StringComparison.Ordinal);
        Assert.Contains("Clients[1] ('spa-keys'): a public client cannot have a JsonWebKeySet", error.Message, StringComparison.Ordinal);
        // The key parser reads "D" as "d": refused as well.
        Assert.Contains("Clients[2] ('leaky-upper'): JsonWebKeySet keys[0] holds private key material (\"D\")", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AdminPageForm_ShowsTheKeys_AndSavesThemUnchanged()
    {
        using var key = RSA.Create(2048);
        var client = new SeedClient { ClientId = "signer", GrantTypes = ["client_credentials"],
            JsonWebKeySet = JsonSerializer.SerializeToElement(Jwks(new RsaSecurityKey(key.ExportParameters(false)))) };

        var form = IdentityServer.Pages.Admin.Clients.ClientForm.From(client);
        var saved = form.ToClient(client);
        form.JsonWebKeySet = "not json";
        var garbled = form.ToClient(client);

        Assert.Contains("\"kty\": \"RSA\"", IdentityServer.Pages.Admin.Clients.ClientForm.From(client).JsonWebKeySet, StringComparison.Ordinal);
        Assert.True(JsonElement.DeepEquals(client.JsonWebKeySet!.Value, saved.JsonWebKeySet!.Value));
        // Text that is not JSON reaches the validator, which says it is not a JWK Set.
        Assert.Contains("must be a JWK Set", string.Join(" ", IdentityServer.Authorization.ClientKeys.Problems(garbled.JsonWebKeySet!.Value)), StringComparison.Ordinal);
    }

    [Fact]
    public void RsaKeySize_IsCountedInBitsOfTheModulus_NotInCharacters()
    {
        using var big = RSA.Create(2048);
        using var small = RSA.Create(1024);
        var modulus = small.ExportParameters(false).Modulus!;
        // 1,024 bits padded with zero bytes to 256 bytes: as long as a 2,048-bit modulus in text.
        var padded = Base64UrlEncoder.Encode([.. new byte[256 - modulus.Length], .. modulus]);
        static JsonElement Set(string n) => JsonSerializer.SerializeToElement(new { keys = new[] { new { kty = "RSA", n, e = "AQAB" } } });

        Assert.Equal(2048, IdentityServer.Authorization.ClientKeys.ModulusBits(Base64UrlEncoder.Encode(big.ExportParameters(false).Modulus)));
        Assert.Equal(1024, IdentityServer.Authorization.ClientKeys.ModulusBits(padded));
        Assert.Equal(342, padded.Length);
        Assert.Equal(0, IdentityServer.Authorization.ClientKeys.ModulusBits("not*base64url"));
        Assert.Empty(IdentityServer.Authorization.ClientKeys.Problems(Set(Base64UrlEncoder.Encode(big.ExportParameters(false).Modulus))));
        Assert.Contains("must be an RSA key of 2,048 bits or more", string.Join(" ", IdentityServer.Authorization.ClientKeys.Problems(Set(padded))), StringComparison.Ordinal);
    }

    [Fact]
    public void Seed_KeySet_RoundTripsThroughTheDescriptor()
    {
        using var key = RSA.Create(2048);
        var keys = JsonSerializer.SerializeToElement(Jwks(new RsaSecurityKey(key.ExportParameters(false)) { KeyId = "k1" }));
        var seed = new SeedClient { ClientId = "signer", GrantTypes = ["client_credentials"], JsonWebKeySet = keys };

        var back = Seeder.FromDescriptor(Seeder.ToDescriptor(seed));

        var only = Assert.Single(back.JsonWebKeySet!.Value.GetProperty("keys").EnumerateArray());
        Assert.Equal("k1", only.GetProperty("kid").GetString());
        Assert.Equal(Base64UrlEncoder.Encode(key.ExportParameters(false).Modulus), only.GetProperty("n").GetString());
        Assert.False(only.TryGetProperty("d", out _));
    }

    private static Task<JsonElement> RegisterAsync(OidcTestClient http, string clientId, RSA key) =>
        RegisterAsync(http, clientId, new RsaSecurityKey(key.ExportParameters(false)));

    /// <summary>A client-credentials client registered through the admin API with this public key and no secret.</summary>
    internal static async Task<JsonElement> RegisterAsync(OidcTestClient http, string clientId, AsymmetricSecurityKey publicKey)
    {
        var token = await AdminTokenAsync(http);
        using var created = await SendJsonAsync(http, token, HttpMethod.Post, "/api/admin/clients", $$"""
            { "clientId": "{{clientId}}", "grantTypes": ["client_credentials"], "scopes": ["{{TestSeed.ApiScope}}"],
              "jsonWebKeySet": {{JsonSerializer.Serialize(Jwks(publicKey))}} }
            """);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return await JsonAsync(created);
    }

    /// <summary>A JWK Set with the public key only.</summary>
    internal static object Jwks(AsymmetricSecurityKey key)
    {
        var jwk = key switch
        {
            RsaSecurityKey rsa => JsonWebKeyConverter.ConvertFromRSASecurityKey(rsa),
            ECDsaSecurityKey ec => JsonWebKeyConverter.ConvertFromECDsaSecurityKey(ec),
            _ => throw new ArgumentException("RSA or ECDSA", nameof(key)),
        };
        return new { keys = new[] { jwk.Kty == "RSA"
            ? (object)new { kty = jwk.Kty, kid = jwk.Kid ?? "rsa", n = jwk.N, e = jwk.E }
            : new { kty = jwk.Kty, kid = jwk.Kid ?? "ec", crv = jwk.Crv, x = jwk.X, y = jwk.Y } } };
    }

    internal static string Assertion(string clientId, RSA key, string audience, DateTime? expires = null) =>
        Assertion(clientId, new SigningCredentials(new RsaSecurityKey(key) { KeyId = "rsa" }, SecurityAlgorithms.RsaSha256), audience, expires);

    internal static string Assertion(string clientId, SigningCredentials credentials, string audience, DateTime? expires = null,
        string type = "client-authentication+jwt", bool jti = true)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = clientId,
            Audience = audience,
            Subject = new ClaimsIdentity(jti ? [new Claim("sub", clientId), new Claim("jti", Guid.NewGuid().ToString("N"))] : [new Claim("sub", clientId)]),
            IssuedAt = (expires ?? now.AddMinutes(1)).AddMinutes(-1),
            NotBefore = (expires ?? now.AddMinutes(1)).AddMinutes(-1),
            Expires = expires ?? now.AddMinutes(1),
            SigningCredentials = credentials,
            TokenType = type,
        });
    }

    private static Task<TokenResponse> TokenAsync(OidcTestClient http, string clientId, string assertion) =>
        http.PostAsync("/connect/token", Form(clientId, assertion, ("grant_type", "client_credentials"), ("scope", TestSeed.ApiScope)));

    private static List<KeyValuePair<string, string>> Form(string clientId, string assertion, params (string Key, string Value)[] fields) =>
    [
        .. fields.Select(static f => new KeyValuePair<string, string>(f.Key, f.Value)),
        new("client_id", clientId), new("client_assertion_type", AssertionType), new("client_assertion", assertion),
    ];

    private static List<string> Strings(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) ? value.EnumerateArray().Select(static v => v.GetString()!).ToList() : [];
}
