using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using IdentityServer.Seeding;
using IdentityServer.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static IdentityServer.Tests.Admin.AdminTestHelpers;

namespace IdentityServer.Tests.Authorization;

/// <summary>
/// DPoP (RFC 9449) over real HTTP: proofs are checked as section 4.3 says and used once; tokens issued with
/// a proof are bound to its key (cnf.jkt, token type DPoP) and useless without it, at the userinfo endpoint
/// and, for a public client's refresh token, at the token endpoint; dpop_jkt and a proof at the pushed
/// authorization endpoint bind the code; RequireDPoP clients get nothing without a proof.
/// </summary>
public sealed class DPoPTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    private const string Server = "https://localhost";
    private const string TokenUrl = Server + "/connect/token";
    private const string UserInfoUrl = Server + "/connect/userinfo";

    [Fact]
    public async Task Discovery_ListsTheProofAlgorithms_AsymmetricOnly()
    {
        using var client = factory.CreateBrowserlikeClient();
        var json = JsonDocument.Parse(await client.GetStringAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative))).RootElement;

        var algorithms = json.GetProperty("dpop_signing_alg_values_supported").EnumerateArray().Select(static a => a.GetString()).ToList();

        Assert.Contains("ES256", algorithms);
        Assert.Contains("RS256", algorithms);
        Assert.DoesNotContain(algorithms, static a => a is "none" || a!.StartsWith("HS", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClientCredentials_WithProof_TokenBoundToTheKey_IntrospectionSaysSo()
    {
        using var key = new DPoPKey();
        using var http = factory.CreateOidcClient();

        var issued = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl), WorkerCredentials);

        Assert.Equal(HttpStatusCode.OK, issued.Status);
        Assert.Equal("DPoP", issued["token_type"]);
        var token = new JsonWebToken(issued["access_token"]);
        Assert.Equal(key.Thumbprint, token.GetPayloadValue<JsonElement>("cnf").GetProperty("jkt").GetString());
        var introspected = await http.IntrospectAsync(issued["access_token"]!);
        Assert.Equal("true", introspected["active"]);
        Assert.Equal("DPoP", introspected["token_type"]);
        Assert.Equal(key.Thumbprint, introspected.Json.GetProperty("cnf").GetProperty("jkt").GetString());
    }

    [Fact]
    public async Task ClientCredentials_WithoutProof_BearerTokenWithoutCnf()
    {
        using var http = factory.CreateOidcClient();

        var issued = await http.ClientCredentialsAsync();

        Assert.Equal("Bearer", issued["token_type"]);
        Assert.False(new JsonWebToken(issued["access_token"]).TryGetPayloadValue<JsonElement>("cnf", out _));
    }

    [Fact]
    public async Task Proof_BrokenInAnyOfTheWaysRfc9449Lists_InvalidDPoPProof()
    {
        using var key = new DPoPKey();
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var http = factory.CreateOidcClient();
        var otherJwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(other));
        var privateJwk = new Dictionary<string, object>(key.PublicJwk) { ["d"] = otherJwk.D };
        var unsigned = string.Join('.', key.Proof("POST", TokenUrl).Split('.')[..2]) + ".";
        var claims = Base64UrlEncoder.Encode(JsonSerializer.Serialize(new { jti = Guid.NewGuid().ToString("N"), htm = "POST", htu = TokenUrl, iat = DateTimeOffset.UtcNow.ToUnixTimeSeconds() }));
        var algNone = Base64UrlEncoder.Encode(JsonSerializer.Serialize(new { typ = "dpop+jwt", alg = "none", jwk = key.PublicJwk })) + "." + claims + ".";
        var hs256 = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { ["jti"] = Guid.NewGuid().ToString("N"), ["htm"] = "POST", ["htu"] = TokenUrl },
            TokenType = "dpop+jwt",
            AdditionalHeaderClaims = new Dictionary<string, object> { ["jwk"] = key.PublicJwk },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)), SecurityAlgorithms.HmacSha256),
        });

        var broken = new Dictionary<string, string>
        {
            ["not a JWT"] = "not-a-jwt",
            ["unsigned"] = unsigned,
            ["alg none"] = algNone,
            ["HS256 (a MAC)"] = hs256,
            ["wrong method"] = key.Proof("GET", TokenUrl),
            ["wrong URL"] = key.Proof("POST", Server + "/connect/introspect"),
            ["another host"] = key.Proof("POST", "https://elsewhere.example/connect/token"),
            ["too old"] = key.Proof("POST", TokenUrl, issuedAt: DateTime.UtcNow.AddMinutes(-3)),
            ["from the future"] = key.Proof("POST", TokenUrl, issuedAt: DateTime.UtcNow.AddMinutes(3)),
            ["no jti"] = key.Proof("POST", TokenUrl, jti: null),
            ["typed JWT"] = key.Proof("POST", TokenUrl, type: "JWT"),
            ["private key in jwk"] = key.Proof("POST", TokenUrl, jwk: privateJwk),
            ["signed by another key"] = key.Proof("POST", TokenUrl, jwk: new Dictionary<string, object>
                { ["kty"] = "EC", ["crv"] = "P-256", ["x"] = otherJwk.X, ["y"] = otherJwk.Y }),
        };
        foreach (var (name, proof) in broken)
        {
            var response = await SendAsync(http, "/connect/token", proof, WorkerCredentials);
            Assert.True((HttpStatusCode.BadRequest, "invalid_dpop_proof") == (response.Status, response.Error),
                $"{name}: {(int)response.Status} {response.Error} {response["error_description"]}");
        }

        // Two proofs in one request.
        using var twice = new HttpRequestMessage(HttpMethod.Post, new Uri("/connect/token", UriKind.Relative)) { Content = new FormUrlEncodedContent(WorkerCredentials.Select(static f => new KeyValuePair<string, string>(f.Item1, f.Item2))) };
        twice.Headers.Add("DPoP", [key.Proof("POST", TokenUrl), key.Proof("POST", TokenUrl)]);
        var doubled = await TokenResponse.ReadAsync(await http.Http.SendAsync(twice));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_dpop_proof"), (doubled.Status, doubled.Error));
    }

    /// <summary>RFC 7515 4.1.9: "dpop+jwt" and "application/dpop+jwt" are one media type.</summary>
    [Fact]
    public async Task Proof_TypedWithTheFullMediaType_Accepted()
    {
        using var key = new DPoPKey();
        using var http = factory.CreateOidcClient();

        var issued = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl, type: "application/dpop+jwt"), WorkerCredentials);

        Assert.Equal((HttpStatusCode.OK, "DPoP"), (issued.Status, issued["token_type"]));
    }

    [Fact]
    public async Task Proof_UsedTwice_SecondRequestRefused()
    {
        using var key = new DPoPKey();
        using var http = factory.CreateOidcClient();
        var proof = key.Proof("POST", TokenUrl);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, "/connect/token", proof, WorkerCredentials)).Status);

        var replayed = await SendAsync(http, "/connect/token", proof, WorkerCredentials);

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_dpop_proof"), (replayed.Status, replayed.Error));
        Assert.Contains("used already", replayed["error_description"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequireDPoP_Client_WithoutProof_Refused_WithProof_Bound_SettingReadsBack()
    {
        using var key = new DPoPKey();
        using var http = factory.CreateOidcClient();
        var admin = await AdminTokenAsync(http);
        using var created = await SendJsonAsync(http, admin, HttpMethod.Post, "/api/admin/clients", $$"""
            { "clientId": "bound-worker", "grantTypes": ["client_credentials"], "scopes": ["{{TestSeed.ApiScope}}"], "requireDPoP": true }
            """);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var secret = (await JsonAsync(created)).GetProperty("clientSecret").GetString()!;
        (string, string)[] form = [("grant_type", "client_credentials"), ("client_id", "bound-worker"), ("client_secret", secret), ("scope", TestSeed.ApiScope)];

        var without = await SendAsync(http, "/connect/token", null, form);
        var with = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl), form);

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_dpop_proof"), (without.Status, without.Error));
        Assert.Equal((HttpStatusCode.OK, "DPoP"), (with.Status, with["token_type"]));
        using var read = await SendJsonAsync(http, admin, HttpMethod.Get, "/api/admin/clients/bound-worker", null);
        Assert.True((await JsonAsync(read)).GetProperty("requireDPoP").GetBoolean());
    }

    [Fact]
    public async Task PublicClient_CodeFlowWithProof_TokensUselessWithoutTheKey()
    {
        using var key = new DPoPKey();
        using var thief = new DPoPKey();
        using var http = factory.CreateOidcClient();
        var tokens = await PublicCodeFlowAsync(http, key, extra: null);
        Assert.Equal("DPoP", tokens["token_type"]);
        var accessToken = tokens["access_token"]!;
        var refreshToken = tokens["refresh_token"]!;

        // Userinfo: the DPoP scheme with a proof by the key and the token's hash.
        var ok = await UserInfoAsync(http, "DPoP", accessToken, key.Proof("GET", UserInfoUrl, accessToken));
        var asBearer = await UserInfoAsync(http, "Bearer", accessToken, null);
        var noProof = await UserInfoAsync(http, "DPoP", accessToken, null);
        var noHash = await UserInfoAsync(http, "DPoP", accessToken, key.Proof("GET", UserInfoUrl));
        var stolen = await UserInfoAsync(http, "DPoP", accessToken, thief.Proof("GET", UserInfoUrl, accessToken));

        Assert.Equal(HttpStatusCode.OK, ok.Status);
        Assert.False(string.IsNullOrEmpty(ok["sub"]));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_token"), (asBearer.Status, asBearer.Error));
        Assert.StartsWith("DPoP ", asBearer.Message.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        foreach (var refused in new[] { noProof, noHash, stolen })
        {
            Assert.Equal((HttpStatusCode.Unauthorized, "invalid_dpop_proof"), (refused.Status, refused.Error));
            Assert.StartsWith("DPoP ", refused.Message.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
            Assert.Contains("algs=\"", refused.Message.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        // The public client's refresh token is bound too: no proof, or another key's, gets nothing, and does not spend it.
        (string, string)[] refresh = [("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", TestSeed.PublicClientId)];
        var refreshNoProof = await SendAsync(http, "/connect/token", null, refresh);
        var refreshStolen = await SendAsync(http, "/connect/token", thief.Proof("POST", TokenUrl), refresh);
        var refreshed = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl), refresh);

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_dpop_proof"), (refreshNoProof.Status, refreshNoProof.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (refreshStolen.Status, refreshStolen.Error));
        Assert.Equal((HttpStatusCode.OK, "DPoP"), (refreshed.Status, refreshed["token_type"]));
        Assert.Equal(key.Thumbprint, new JsonWebToken(refreshed["access_token"]).GetPayloadValue<JsonElement>("cnf").GetProperty("jkt").GetString());
    }

    [Fact]
    public async Task UserInfo_ReplayedProof_Refused_UnboundTokenWithTheDPoPScheme_Refused()
    {
        using var key = new DPoPKey();
        using var http = factory.CreateOidcClient();
        var bound = await PublicCodeFlowAsync(http, key, "openid profile");
        var proof = key.Proof("GET", UserInfoUrl, bound["access_token"]);
        Assert.Equal(HttpStatusCode.OK, (await UserInfoAsync(http, "DPoP", bound["access_token"]!, proof)).Status);

        var replayed = await UserInfoAsync(http, "DPoP", bound["access_token"]!, proof);
        var unbound = await http.CodeFlowAsync("openid profile");
        var unboundAsDPoP = await UserInfoAsync(http, "DPoP", unbound["access_token"]!, key.Proof("GET", UserInfoUrl, unbound["access_token"]));

        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_dpop_proof"), (replayed.Status, replayed.Error));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_token"), (unboundAsDPoP.Status, unboundAsDPoP.Error));
    }

    /// <summary>
    /// RFC 9449 7.1 keeps RFC 6750 3.1's statuses: a good proof with a token that lacks the scope is 403
    /// insufficient_scope (a client that got 401 would take it for an expired token and loop), with the DPoP challenge.
    /// </summary>
    [Fact]
    public async Task UserInfo_BoundTokenWithoutOpenId_403InsufficientScope_DPoPChallenge()
    {
        using var key = new DPoPKey();
        using var http = factory.CreateOidcClient();
        var issued = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl), WorkerCredentials);
        var accessToken = issued["access_token"]!;

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/connect/userinfo", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("DPoP", accessToken);
        request.Headers.Add("DPoP", key.Proof("GET", UserInfoUrl, accessToken));
        using var response = await http.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        Assert.StartsWith("DPoP ", challenge, StringComparison.Ordinal);
        Assert.Contains("error=\"insufficient_scope\"", challenge, StringComparison.Ordinal);
        Assert.Contains("algs=\"", challenge, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminApi_BoundToken_OnlyWithItsProof_NeverAServerError()
    {
        using var key = new DPoPKey();
        using var thief = new DPoPKey();
        using var http = factory.CreateOidcClient();
        var issued = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl),
            ("grant_type", "client_credentials"), ("client_id", TestSeed.AdminClientId), ("client_secret", TestSeed.AdminClientSecret), ("scope", "idp.admin"));
        Assert.Equal("DPoP", issued["token_type"]);
        var token = issued["access_token"]!;
        const string Users = Server + "/api/admin/users";

        var proof = key.Proof("GET", Users, token);
        var ok = await AdminGetAsync(http, "DPoP", token, proof);
        var replayed = await AdminGetAsync(http, "DPoP", token, proof);
        var asBearer = await AdminGetAsync(http, "Bearer", token, null);
        var stolen = await AdminGetAsync(http, "DPoP", token, thief.Proof("GET", Users, token));

        Assert.Equal(HttpStatusCode.OK, ok.Status);
        foreach (var (status, challenge) in new[] { replayed, asBearer, stolen })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.StartsWith("DPoP ", challenge, StringComparison.Ordinal);
        }
        Assert.Contains("invalid_dpop_proof", replayed.Challenge, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PushedRequest_DPoPJktOfAnotherKeyThanTheProof_Refused()
    {
        using var key = new DPoPKey();
        using var other = new DPoPKey();
        using var http = factory.CreateOidcClient();
        var pushed = await SendAsync(http, "/connect/par", key.Proof("POST", Server + "/connect/par"),
            ("client_id", TestSeed.PublicClientId), ("response_type", "code"), ("redirect_uri", TestSeed.PublicRedirectUri), ("scope", "openid"),
            ("code_challenge", Pkce.Create().Challenge), ("code_challenge_method", "S256"), ("dpop_jkt", other.Thumbprint));

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_dpop_proof"), (pushed.Status, pushed.Error));
    }

    [Fact]
    public async Task ConfidentialClient_RefreshToken_NotBound_ProofOptionalOnRefresh()
    {
        using var key = new DPoPKey();
        using var http = factory.CreateOidcClient();
        var pkce = Pkce.Create();
        var redirect = await http.AuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid offline_access", pkce));
        var tokens = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl),
            ("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]), ("redirect_uri", TestSeed.WebRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret));
        Assert.Equal("DPoP", tokens["token_type"]);

        // A confidential client's refresh token is bound to its credentials (RFC 9449 5); a refresh without a proof gets a Bearer token.
        var refreshed = await http.RefreshAsync(tokens["refresh_token"]!);

        Assert.Equal((HttpStatusCode.OK, "Bearer"), (refreshed.Status, refreshed["token_type"]));
    }

    [Fact]
    public async Task DPoPJkt_BindsTheCode_OnlyThatKeyRedeemsIt_MalformedRefused()
    {
        using var key = new DPoPKey();
        using var thief = new DPoPKey();
        using var http = factory.CreateOidcClient();
        var pkce = Pkce.Create();
        var parameters = OidcTestClient.CodeRequest(TestSeed.PublicClientId, TestSeed.PublicRedirectUri, "openid", pkce);
        parameters["dpop_jkt"] = key.Thumbprint;
        var code = OidcTestClient.Query(await http.AuthorizeAsync(parameters))["code"];
        (string, string)[] form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", TestSeed.PublicRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", TestSeed.PublicClientId)];

        var noProof = await SendAsync(http, "/connect/token", null, form);
        var otherKey = await SendAsync(http, "/connect/token", thief.Proof("POST", TokenUrl), form);
        var redeemed = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl), form);

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_dpop_proof"), (noProof.Status, noProof.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (otherKey.Status, otherKey.Error));
        Assert.Equal((HttpStatusCode.OK, "DPoP"), (redeemed.Status, redeemed["token_type"]));

        parameters = OidcTestClient.CodeRequest(TestSeed.PublicClientId, TestSeed.PublicRedirectUri, "openid", Pkce.Create());
        parameters["dpop_jkt"] = "not-a-thumbprint";
        var malformed = await http.NavigateAsync(OidcTestClient.AuthorizeUrl(parameters));
        Assert.Equal(HttpStatusCode.Redirect, malformed.StatusCode);
        Assert.Equal("invalid_request", OidcTestClient.Query(malformed.Headers.Location!)["error"]);
    }

    [Fact]
    public async Task ProofAtThePushedAuthorizationEndpoint_BindsTheCode()
    {
        using var key = new DPoPKey();
        using var thief = new DPoPKey();
        using var http = factory.CreateOidcClient();
        var pkce = Pkce.Create();
        var pushed = await SendAsync(http, "/connect/par", key.Proof("POST", Server + "/connect/par"),
            ("client_id", TestSeed.PublicClientId), ("response_type", "code"), ("redirect_uri", TestSeed.PublicRedirectUri), ("scope", "openid"),
            ("code_challenge", pkce.Challenge), ("code_challenge_method", "S256"));
        Assert.Equal(HttpStatusCode.Created, pushed.Status);
        var code = OidcTestClient.Query(await http.AuthorizeAsync(new Dictionary<string, string?>
            { ["client_id"] = TestSeed.PublicClientId, ["request_uri"] = pushed["request_uri"] }))["code"];
        (string, string)[] form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", TestSeed.PublicRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", TestSeed.PublicClientId)];

        var otherKey = await SendAsync(http, "/connect/token", thief.Proof("POST", TokenUrl), form);
        var redeemed = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl), form);

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (otherKey.Status, otherKey.Error));
        Assert.Equal((HttpStatusCode.OK, "DPoP"), (redeemed.Status, redeemed["token_type"]));
    }

    [Fact]
    public void Seed_RequireDPoP_RoundTrips_AndNeedsAGrant()
    {
        var seed = new SeedClient { ClientId = "bound", ClientSecret = "bound-secret-0123456789", GrantTypes = ["client_credentials"], RequireDPoP = true };
        Assert.True(Seeder.FromDescriptor(Seeder.ToDescriptor(seed)).RequireDPoP);

        var path = Path.Combine(factory.Folder, "dpop-no-grant.json");
        File.WriteAllText(path, """{ "Clients": [ { "ClientId": "api-only", "ClientSecret": "api-only-secret-0123456789", "Introspection": true, "RequireDPoP": true } ] }""");
        var error = Assert.Throws<SeedException>(() => SeedLoader.Load(path));
        Assert.Contains("Clients[0] ('api-only'): RequireDPoP needs a grant type", error.Message, StringComparison.Ordinal);
    }

    internal static readonly (string, string)[] WorkerCredentials =
        [("grant_type", "client_credentials"), ("client_id", TestSeed.WorkerClientId), ("client_secret", TestSeed.WorkerSecret), ("scope", TestSeed.ApiScope)];

    private static async Task<TokenResponse> PublicCodeFlowAsync(OidcTestClient http, DPoPKey key, string? extra)
    {
        var pkce = Pkce.Create();
        var redirect = await http.AuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.PublicClientId, TestSeed.PublicRedirectUri, extra ?? "openid profile offline_access", pkce));
        var tokens = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl),
            ("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]), ("redirect_uri", TestSeed.PublicRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", TestSeed.PublicClientId));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        return tokens;
    }

    internal static async Task<TokenResponse> SendAsync(OidcTestClient http, string path, string? proof, params (string Key, string Value)[] form)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative))
        {
            Content = new FormUrlEncodedContent(form.Select(static f => new KeyValuePair<string, string>(f.Key, f.Value))),
        };
        if (proof is not null)
        {
            request.Headers.Add("DPoP", proof);
        }
        return await TokenResponse.ReadAsync(await http.Http.SendAsync(request));
    }

    private static async Task<(HttpStatusCode Status, string Challenge)> AdminGetAsync(OidcTestClient http, string scheme, string token, string? proof)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/admin/users", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue(scheme, token);
        if (proof is not null)
        {
            request.Headers.Add("DPoP", proof);
        }
        using var response = await http.Http.SendAsync(request);
        return (response.StatusCode, response.Headers.WwwAuthenticate.ToString());
    }

    internal static async Task<TokenResponse> UserInfoAsync(OidcTestClient http, string scheme, string accessToken, string? proof)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/connect/userinfo", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue(scheme, accessToken);
        if (proof is not null)
        {
            request.Headers.Add("DPoP", proof);
        }
        var response = await http.Http.SendAsync(request);
        var read = await TokenResponse.ReadAsync(response);
        if (read.Json.ValueKind != JsonValueKind.Object && response.Headers.WwwAuthenticate.ToString() is { Length: > 0 } challenge
            && System.Text.RegularExpressions.Regex.Match(challenge, "error=\"([^\"]+)\"") is { Success: true } match)
        {
            // Userinfo errors travel in the WWW-Authenticate header.
            return read with { Json = JsonSerializer.SerializeToElement(new { error = match.Groups[1].Value }) };
        }
        return read;
    }
}
