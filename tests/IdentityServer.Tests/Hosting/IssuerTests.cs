using System.Net;
using System.Text.Json;
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
