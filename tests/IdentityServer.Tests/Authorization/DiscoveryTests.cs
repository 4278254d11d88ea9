using System.Net;
using System.Text.Json;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Authorization;

public sealed class DiscoveryTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task Discovery_Always_AdvertisesEveryEndpointAndSecureDefaults()
    {
        using var client = factory.CreateBrowserlikeClient();
        using var response = await client.GetAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal("https://localhost/", json.GetProperty("issuer").GetString());
        foreach (var (name, path) in new[]
        {
            ("authorization_endpoint", "/connect/authorize"), ("token_endpoint", "/connect/token"),
            ("userinfo_endpoint", "/connect/userinfo"), ("introspection_endpoint", "/connect/introspect"),
            ("revocation_endpoint", "/connect/revoke"), ("end_session_endpoint", "/connect/endsession"),
            ("device_authorization_endpoint", "/connect/device"),
            ("jwks_uri", "/.well-known/jwks"),
        })
        {
            Assert.Equal("https://localhost" + path, json.GetProperty(name).GetString());
        }

        Assert.Equal(["S256"], Strings(json, "code_challenge_methods_supported"));
        Assert.Equal(["code"], Strings(json, "response_types_supported"));
        Assert.Equal(["authorization_code", "client_credentials", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:token-exchange"], Strings(json, "grant_types_supported").Order());
        Assert.Contains("RS256", Strings(json, "id_token_signing_alg_values_supported"));
        Assert.Equal(["consent", "login", "none"], Strings(json, "prompt_values_supported").Order());
        Assert.True(json.GetProperty("authorization_response_iss_parameter_supported").GetBoolean());
        Assert.Superset(new HashSet<string> { "openid", "profile", "email", "offline_access", "idp.admin" }, Strings(json, "scopes_supported").ToHashSet());
        Assert.Contains("auth_time", Strings(json, "claims_supported"));
    }

    [Fact]
    public async Task Jwks_Always_PublishesRsaSigningKeyWithoutPrivateParts()
    {
        using var client = factory.CreateBrowserlikeClient();
        var json = JsonDocument.Parse(await client.GetStringAsync(new Uri("/.well-known/jwks", UriKind.Relative))).RootElement;
        var keys = json.GetProperty("keys").EnumerateArray().ToList();
        var key = Assert.Single(keys);
        Assert.Equal("RSA", key.GetProperty("kty").GetString());
        Assert.Equal("sig", key.GetProperty("use").GetString());
        Assert.Equal("RS256", key.GetProperty("alg").GetString());
        Assert.False(key.TryGetProperty("d", out _));
        Assert.False(key.TryGetProperty("p", out _));
    }

    private static string[] Strings(JsonElement json, string name) =>
        [.. json.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];
}
