using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Hosting;

/// <summary>Outside Development the issuer is configuration: never the request's Host header.</summary>
public sealed class IssuerTests
{
    [Fact]
    public void Production_NoIssuer_RefusesToStartNamingTheSetting()
    {
        using var factory = new IdentityServerFactory { EnvironmentName = "Production" };
        factory.Settings.Remove("IdentityServer:Issuer");
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("IdentityServer:Issuer is not set", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://id.example.com/")]
    [InlineData("https://id.example.com/?tenant=a")]
    [InlineData("https://id.example.com/#top")]
    [InlineData("/relative")]
    public void Production_UnusableIssuer_RefusesToStart(string issuer)
    {
        using var factory = new IdentityServerFactory { EnvironmentName = "Production" };
        factory.Settings["IdentityServer:Issuer"] = issuer;
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("must be an absolute https URL", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_ConfiguredIssuer_IsUsedWhateverTheHostHeader()
    {
        using var factory = new IdentityServerFactory { EnvironmentName = "Production" };
        factory.Settings["IdentityServer:Issuer"] = "https://id.example.com/";
        AddDeviceClient(factory);
        using var client = factory.CreateOidcClient();

        using var discovery = new HttpRequestMessage(HttpMethod.Get, new Uri("/.well-known/openid-configuration", UriKind.Relative));
        discovery.Headers.Host = "evil.example";
        using var response = await client.Http.SendAsync(discovery);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("https://id.example.com/", json.GetProperty("issuer").GetString());
        foreach (var endpoint in json.EnumerateObject().Where(static p => p.Name.EndsWith("_endpoint", StringComparison.Ordinal) || p.Name == "jwks_uri"))
        {
            Assert.StartsWith("https://id.example.com/", endpoint.Value.GetString(), StringComparison.Ordinal);
        }

        var token = await client.ClientCredentialsAsync();
        Assert.Equal(HttpStatusCode.OK, token.Status);
        Assert.Equal("https://id.example.com/", Jwt.Payload(token["access_token"]!).GetProperty("iss").GetString());

        // The authorization response's iss (RFC 9207), here on an error sent back to the client.
        var parameters = OidcTestClient.CodeRequest(TestSeed.ImplicitConsentClientId, TestSeed.PortalRedirectUri, "openid", null);
        parameters["prompt"] = "none";
        using var authorize = new HttpRequestMessage(HttpMethod.Get, new Uri(OidcTestClient.AuthorizeUrl(parameters), UriKind.Relative));
        authorize.Headers.Host = "evil.example";
        using var redirect = await client.Http.SendAsync(authorize);
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        var query = OidcTestClient.Query(redirect.Headers.Location!);
        Assert.Equal(("login_required", "https://id.example.com/"), (query["error"], query["iss"]));

        // The device flow's verification_uri.
        using var device = new HttpRequestMessage(HttpMethod.Post, new Uri("/connect/device", UriKind.Relative))
        {
            Content = new FormUrlEncodedContent([new("client_id", DeviceClientId), new("scope", "openid")]),
        };
        device.Headers.Host = "evil.example";
        var deviceResponse = await TokenResponse.ReadAsync(await client.Http.SendAsync(device));
        Assert.Equal(HttpStatusCode.OK, deviceResponse.Status);
        Assert.Equal("https://id.example.com/connect/verify", deviceResponse["verification_uri"]);
        Assert.StartsWith("https://id.example.com/connect/verify?user_code=", deviceResponse["verification_uri_complete"], StringComparison.Ordinal);
    }

    private const string DeviceClientId = "tv";

    /// <summary>The test seed plus a device-flow client.</summary>
    private static void AddDeviceClient(IdentityServerFactory factory)
    {
        var seed = JsonNode.Parse(TestSeed.Json)!;
        seed["Clients"]!.AsArray().Add(new JsonObject
        {
            ["ClientId"] = DeviceClientId,
            ["ClientType"] = "public",
            ["GrantTypes"] = new JsonArray("urn:ietf:params:oauth:grant-type:device_code"),
            ["Scopes"] = new JsonArray("openid"),
        });
        File.WriteAllText(factory.SeedPath, seed.ToJsonString());
    }

    [Fact]
    public async Task Development_NoIssuer_TakesTheRequestsBaseAddress()
    {
        using var factory = new IdentityServerFactory { EnvironmentName = "Development" };
        factory.Settings.Remove("IdentityServer:Issuer");
        using var client = factory.CreateOidcClient();
        using var response = await client.Http.GetAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("https://localhost/", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("issuer").GetString());
    }
}
