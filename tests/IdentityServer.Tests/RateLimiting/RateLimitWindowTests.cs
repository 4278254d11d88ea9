using System.Net;
using IdentityServer.Tests.Infrastructure;
using static IdentityServer.Tests.RateLimiting.RateLimitTests;

namespace IdentityServer.Tests.RateLimiting;

public sealed class DisabledRateLimitTests(DisabledRateLimitFactory factory) : IClassFixture<DisabledRateLimitFactory>
{
    [Fact]
    public async Task Limits_Disabled_NothingIsRefused()
    {
        using var client = factory.CreateOidcClient("10.8.0.1");
        for (var i = 0; i < RateLimitFactory.SignInPerIp + 2; i++)
        {
            using var attempt = await PostSignInAsync(client, "nobody", "wrong");
            Assert.Equal(HttpStatusCode.OK, attempt.StatusCode);
        }
        for (var i = 0; i < RateLimitFactory.ClientAuthenticationFailures + 2; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.TokenAsync(WorkerCredentials("wrong"))).Status);
        }
        for (var i = 0; i < RateLimitFactory.TokenPerClient + 2; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.TokenAsync(WorkerCredentials())).Status);
        }
        var token = await Admin.AdminTestHelpers.AdminTokenAsync(client);
        for (var i = 0; i < RateLimitFactory.Admin + 2; i++)
        {
            using var response = await Admin.AdminTestHelpers.SendAsync(client.Http, HttpMethod.Get, "/api/admin/users", token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }
}

public sealed class ShortWindowRateLimitTests(ShortWindowRateLimitFactory factory) : IClassFixture<ShortWindowRateLimitFactory>
{
    [Fact]
    public async Task Token_AfterRetryAfter_TheClientMayAgain()
    {
        using var client = factory.CreateOidcClient("10.9.0.1");
        // The first token request of a host is slow (JIT): an exempt client pays for it.
        Assert.Equal(HttpStatusCode.OK, (await client.TokenAsync(AdminCredentials())).Status);

        Assert.Equal(HttpStatusCode.OK, (await client.TokenAsync(WorkerCredentials())).Status);
        var refused = await client.TokenAsync(WorkerCredentials());
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
        var retryAfter = AssertRetryAfter(refused.Message);
        Assert.InRange(retryAfter.TotalSeconds, 1, 2);

        await Task.Delay(retryAfter + TimeSpan.FromMilliseconds(500));
        Assert.Equal(HttpStatusCode.OK, (await client.TokenAsync(WorkerCredentials())).Status);
    }
}
