using IdentityServer.Tests.Hosting.Fuzzing;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Hosting;

/// <summary>
/// A Host header the server cannot use is refused with 400 before any code reads it. Over real
/// Kestrel: TestServer itself reads Request.Host and throws before the server sees the request.
/// </summary>
public sealed class HostHeaderTests(FuzzServerFactory server) : IClassFixture<FuzzServerFactory>
{
    public static TheoryData<string> UnusableHosts => new()
    {
        "xn--lcalhost-1xa",          // invalid punycode: reading Request.Host threw
        "localhost:99999",           // no such port: OpenIddict could not build the request URI
        new string('h', 300),        // longer than a DNS name: the same
    };

    [Theory]
    [MemberData(nameof(UnusableHosts))]
    public async Task Request_UnusableHostHeader_Returns400(string host)
    {
        using var transport = new FuzzTransport(server.Address, server.EndPoint, server.TlsCertificate);
        var request = new FuzzRequest { Index = 0, Template = "token", Method = "POST", Path = "/connect/token", Body = FuzzBody.Form, Host = host };
        request.Form.AddRange([new("grant_type", "client_credentials"), new("client_id", TestSeed.WorkerClientId), new("client_secret", TestSeed.WorkerSecret)]);

        var response = await transport.SendAsync(request);

        Assert.Equal(400, response.Status);
        Assert.Equal("Invalid Host header.", response.Body);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("idp.example:8443")]
    [InlineData("[::1]:5001")]
    [InlineData("xn--bcher-kva.example")]
    public void HostCheck_UsableHost_IsAccepted(string host) =>
        Assert.True(IdentityServer.Hosting.HostHeaderMiddleware.IsUsable(host));
}
