using System.Net;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Hosting;

public sealed class HealthTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Health_DatabaseUp_Is200Healthy(string path)
    {
        using var client = factory.CreateClient(new() { BaseAddress = IdentityServerFactory.BaseAddress });
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Health_DatabaseGone_ReadyIs503WithoutDetailsAndLiveStays200()
    {
        using var host = new IdentityServerFactory();
        using var client = host.CreateClient(new() { BaseAddress = IdentityServerFactory.BaseAddress });
        using (var before = await client.GetAsync(new Uri("/health/ready", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        host.RemoveDatabase();

        using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        // The plain status, not the HTML error page and not the exception or connection string.
        Assert.Equal("Unhealthy", await ready.Content.ReadAsStringAsync());
        using var live = await client.GetAsync(new Uri("/health/live", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }
}
