using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Hosting;

public sealed class ForwardedHeadersTests
{
    [Theory]
    [InlineData("KnownProxies", "proxy.internal", "ForwardedHeaders:KnownProxies: 'proxy.internal' is not an IP address.")]
    [InlineData("KnownNetworks", "10.0.0.0/99", "ForwardedHeaders:KnownNetworks: '10.0.0.0/99' is not a CIDR range such as 10.0.0.0/8.")]
    public void ForwardedHeaders_BadProxySetting_StopsStartupWithClearMessage(string key, string value, string message)
    {
        using var factory = new IdentityServerFactory();
        factory.Settings["ForwardedHeaders:Enabled"] = "true";
        factory.Settings[$"ForwardedHeaders:{key}:0"] = value;
        var error = Record.Exception(() => factory.Server);
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e.Message == message)
            {
                return;
            }
        }
        Assert.Fail($"Expected '{message}', got: {error}");
    }

    [Fact]
    public async Task ForwardedHeaders_EnabledWithKnownNetwork_ServerStillAnswers()
    {
        using var factory = new IdentityServerFactory();
        factory.Settings["ForwardedHeaders:Enabled"] = "true";
        factory.Settings["ForwardedHeaders:KnownNetworks:0"] = "10.0.0.0/8";
        factory.Settings["ForwardedHeaders:KnownProxies:0"] = "192.0.2.10";
        using var client = factory.CreateClient(new() { BaseAddress = IdentityServerFactory.BaseAddress });
        using var response = await client.GetAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }
}
