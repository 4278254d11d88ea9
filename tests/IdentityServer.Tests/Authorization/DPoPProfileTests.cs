using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using IdentityServer.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static IdentityServer.Tests.Admin.AdminTestHelpers;
using static IdentityServer.Tests.Authorization.DPoPTests;

namespace IdentityServer.Tests.Authorization;

/// <summary>A server that requires DPoP nonces (RFC 9449 8).</summary>
public sealed class DPoPNonceFactory : IdentityServerFactory
{
    public DPoPNonceFactory() => Settings["DPoP:RequireNonce"] = "true";
}

/// <summary>
/// Server nonces for DPoP proofs, and the whole modern profile at once: a client that must push its requests
/// (PAR), authenticates with signed assertions (private_key_jwt) and must bind its tokens (DPoP) signs in a
/// user, refreshes, and its tokens do nothing without its key.
/// </summary>
public sealed class DPoPProfileTests(DPoPNonceFactory factory) : IClassFixture<DPoPNonceFactory>
{
    private const string Issuer = "https://localhost/";
    private const string TokenUrl = Issuer + "connect/token";
    private const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    [Fact]
    public async Task Proof_WithoutTheServersNonce_UseDPoPNonce_RetryWithItSucceeds()
    {
        using var key = new DPoPKey();
        using var http = factory.CreateOidcClient();

        var first = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl), WorkerCredentials);
        var madeUp = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl, nonce: "made-up"), WorkerCredentials);
        var nonce = first.Message.Headers.GetValues("DPoP-Nonce").Single();
        var retried = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl, nonce: nonce), WorkerCredentials);

        Assert.Equal((HttpStatusCode.BadRequest, "use_dpop_nonce"), (first.Status, first.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "use_dpop_nonce"), (madeUp.Status, madeUp.Error));
        Assert.Equal((HttpStatusCode.OK, "DPoP"), (retried.Status, retried["token_type"]));
        Assert.True(retried.Message.Headers.Contains("DPoP-Nonce"));
    }

    /// <summary>
    /// RFC 9449 8: a request refused for its nonce is retried with it. A client assertion is used once (OpenID
    /// Connect Core 9), but a request refused only for the proof's nonce has not used it: a client may resend the
    /// same body with a new proof. Once a token is issued, the assertion is spent.
    /// </summary>
    [Fact]
    public async Task AssertionOfARequestRefusedForTheNonce_IsNotUsedUp_TheRetryWithTheNonceGetsTheToken()
    {
        using var signingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var key = new DPoPKey();
        using var http = factory.CreateOidcClient();
        const string ClientId = "nonce-signer";
        await PrivateKeyJwtTests.RegisterAsync(http, ClientId, new ECDsaSecurityKey(signingKey));
        var assertion = PrivateKeyJwtTests.Assertion(ClientId, new SigningCredentials(new ECDsaSecurityKey(signingKey), SecurityAlgorithms.EcdsaSha256), Issuer);
        (string, string)[] form = [("grant_type", "client_credentials"), ("client_id", ClientId), ("client_assertion_type", AssertionType), ("client_assertion", assertion)];

        var first = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl), form);
        var nonce = first.Message.Headers.GetValues("DPoP-Nonce").Single();
        var retried = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl, nonce: nonce), form);
        var replayed = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl, nonce: nonce), form);

        Assert.Equal((HttpStatusCode.BadRequest, "use_dpop_nonce"), (first.Status, first.Error));
        Assert.Equal((HttpStatusCode.OK, "DPoP"), (retried.Status, retried["token_type"]));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (replayed.Status, replayed.Error));
    }

    [Fact]
    public async Task ClientRequiringParPrivateKeyJwtAndDPoP_CodeFlowAndRefresh_TokensUselessWithoutTheKey()
    {
        using var signingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var key = new DPoPKey();
        using var thief = new DPoPKey();
        using var http = factory.CreateOidcClient();
        const string ClientId = "fapi-app";
        const string RedirectUri = "https://fapi.example/cb";
        var admin = await AdminTokenAsync(http);
        using var created = await SendJsonAsync(http, admin, HttpMethod.Post, "/api/admin/clients", $$"""
            { "clientId": "{{ClientId}}", "grantTypes": ["authorization_code", "refresh_token"], "scopes": ["openid", "profile", "offline_access"],
              "redirectUris": ["{{RedirectUri}}"], "requirePushedAuthorization": true, "requireDPoP": true,
              "jsonWebKeySet": {{JsonSerializer.Serialize(PrivateKeyJwtTests.Jwks(new ECDsaSecurityKey(signingKey)))}} }
            """);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var credentials = new SigningCredentials(new ECDsaSecurityKey(signingKey), SecurityAlgorithms.EcdsaSha256);
        string Assertion() => PrivateKeyJwtTests.Assertion(ClientId, credentials, Issuer);
        (string, string)[] Authenticated(params (string, string)[] fields) =>
            [.. fields, ("client_id", ClientId), ("client_assertion_type", AssertionType), ("client_assertion", Assertion())];

        // The browser may not carry the parameters: the request is pushed, with a proof that binds the code.
        var pkce = Pkce.Create();
        using var frontChannel = await http.Http.GetAsync(new Uri(OidcTestClient.AuthorizeUrl(OidcTestClient.CodeRequest(ClientId, RedirectUri, "openid offline_access", pkce)), UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, frontChannel.StatusCode);
        Assert.Equal("invalid_request", OidcTestClient.Query(frontChannel.Headers.Location!)["error"]);
        var nonce = await NonceAsync(http);
        var pushed = await SendAsync(http, "/connect/par", key.Proof("POST", Issuer + "connect/par", nonce: nonce), Authenticated(
            ("response_type", "code"), ("redirect_uri", RedirectUri), ("scope", "openid profile offline_access"),
            ("code_challenge", pkce.Challenge), ("code_challenge_method", "S256"), ("state", "s1")));
        Assert.Equal(HttpStatusCode.Created, pushed.Status);
        var redirect = await http.AuthorizeAsync(new Dictionary<string, string?> { ["client_id"] = ClientId, ["request_uri"] = pushed["request_uri"] });
        var code = OidcTestClient.Query(redirect)["code"];
        (string, string)[] Redeem() => Authenticated(("grant_type", "authorization_code"), ("code", code), ("redirect_uri", RedirectUri), ("code_verifier", pkce.Verifier));

        var withoutProof = await SendAsync(http, "/connect/token", null, Redeem());
        var tokens = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl, nonce: nonce), Redeem());

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_dpop_proof"), (withoutProof.Status, withoutProof.Error));
        Assert.Equal((HttpStatusCode.OK, "DPoP"), (tokens.Status, tokens["token_type"]));
        Assert.Equal(key.Thumbprint, new JsonWebToken(tokens["access_token"]).GetPayloadValue<JsonElement>("cnf").GetProperty("jkt").GetString());

        // The access token is useless without the key; with it, userinfo answers.
        var accessToken = tokens["access_token"]!;
        Assert.Equal(HttpStatusCode.Unauthorized, (await UserInfoAsync(http, "Bearer", accessToken, null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await UserInfoAsync(http, "DPoP", accessToken, thief.Proof("GET", Issuer + "connect/userinfo", accessToken))).Status);
        Assert.Equal(HttpStatusCode.OK, (await UserInfoAsync(http, "DPoP", accessToken, key.Proof("GET", Issuer + "connect/userinfo", accessToken))).Status);

        // Refreshing needs the client's signing key and a proof.
        (string, string)[] Refresh(string refreshToken) => Authenticated(("grant_type", "refresh_token"), ("refresh_token", refreshToken));
        var refreshWithoutProof = await SendAsync(http, "/connect/token", null, Refresh(tokens["refresh_token"]!));
        var refreshed = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl, nonce: nonce), Refresh(tokens["refresh_token"]!));

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_dpop_proof"), (refreshWithoutProof.Status, refreshWithoutProof.Error));
        Assert.Equal((HttpStatusCode.OK, "DPoP"), (refreshed.Status, refreshed["token_type"]));
        Assert.Equal(key.Thumbprint, new JsonWebToken(refreshed["access_token"]).GetPayloadValue<JsonElement>("cnf").GetProperty("jkt").GetString());
    }

    /// <summary>The nonce a first, refused request is given.</summary>
    private static async Task<string> NonceAsync(OidcTestClient http)
    {
        using var key = new DPoPKey();
        var refused = await SendAsync(http, "/connect/token", key.Proof("POST", TokenUrl), WorkerCredentials);
        Assert.Equal("use_dpop_nonce", refused.Error);
        return refused.Message.Headers.GetValues("DPoP-Nonce").Single();
    }
}
