using System.Net;
using IdentityServer.Tests.Infrastructure;
using static IdentityServer.Tests.People.PeopleSteps;

namespace IdentityServer.Tests.People;

/// <summary>Registration posts are limited per client address.</summary>
public sealed class RegistrationLimitTests(RegistrationLimitFactory factory) : IClassFixture<RegistrationLimitFactory>
{
    [Fact]
    public async Task Register_OverTheAddressLimit_429_NothingCreated()
    {
        using var client = factory.CreateOidcClient();
        Assert.Equal(HttpStatusCode.OK, (await RegistrationTests.RegisterAsync(client, "limit-one", "limit-one@example.com")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await RegistrationTests.RegisterAsync(client, "limit-two", "limit-two@example.com")).StatusCode);
        var before = await UserCountAsync(factory);
        var refused = await RegistrationTests.RegisterAsync(client, "limit-three", "limit-three@example.com");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.StartsWith("Too many registrations", (await OidcTestClient.ParseAsync(refused)).QuerySelector("p.error")?.TextContent, StringComparison.Ordinal);
        Assert.Equal(before, await UserCountAsync(factory));
    }
}
