using System.Net;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.RateLimiting;
using static IdentityServer.Tests.Passkeys.PasskeySteps;

namespace IdentityServer.Tests.Passkeys;

/// <summary>
/// Passkey sign-in posts count against the caller's address (no login is typed), in the same
/// bucket as password attempts: over it, 429 with Retry-After and nothing checked.
/// </summary>
public sealed class PasskeyRateLimitTests(RateLimitFactory factory) : IClassFixture<RateLimitFactory>
{
    [Fact]
    public async Task SignIn_ManyPasskeyAttemptsFromOneAddress_AreRefusedAtTheAddressLimit_PasswordsToo()
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "passkey-limited");
        using var passkey = new TestPasskey();
        await StoreAsync(factory, id, passkey);
        using var client = factory.CreateOidcClient("10.9.0.1");
        for (var i = 0; i < RateLimitFactory.SignInPerIp; i++)
        {
            using var page = await client.NavigateAsync("/Account/Login");
            using var attempt = await PostCredentialAsync(client, page, "{}");
            Assert.Equal(HttpStatusCode.OK, attempt.StatusCode);
        }

        // A valid passkey is not even checked now.
        using var refused = await SignInAsync(client, passkey, id);
        using var password = await RateLimitTests.PostSignInAsync(client, "passkey-limited", AdminTestHelpers.Password);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        RateLimitTests.AssertRetryAfter(refused);
        Assert.StartsWith("Too many sign-in attempts. Wait ", await RateLimitTests.ErrorMessageAsync(refused), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.TooManyRequests, password.StatusCode);
        Assert.Empty(await Sessions.SessionProbe.ForUserAsync(factory, "passkey-limited"));
        using var neighbour = factory.CreateOidcClient("10.9.0.2");
        using var allowed = await SignInAsync(neighbour, passkey, id);
        Assert.Equal(HttpStatusCode.Redirect, allowed.StatusCode);
    }
}
