using System.Diagnostics.Metrics;
using System.Net;
using IdentityServer.Observability;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace IdentityServer.Tests.RateLimiting;

/// <summary>
/// Each limit refuses the request after its configured number with 429, Retry-After and the body its
/// caller reads. Every test uses its own client addresses and accounts, so the limits they spend
/// are their own.
/// </summary>
public sealed class RateLimitTests(RateLimitFactory factory) : IClassFixture<RateLimitFactory>
{
    private const string WrongPasswordMessage = "The username or password is incorrect.";
    private const string TooManySignIns = "Too many sign-in attempts. Wait ";

    [Fact]
    public async Task SignIn_OneLoginFromManyAddresses_IsRefusedAtTheAccountLimit_ForKnownAndUnknownLoginsAlike()
    {
        // The login is counted as typed, case and surrounding spaces aside.
        var bob = await TripAccountLimitAsync(["bob", "BOB", " Bob "], "10.1.0.");
        var unknown = await TripAccountLimitAsync(["nobody@example.com", "NOBODY@example.com", "nobody@EXAMPLE.com "], "10.1.1.");

        // Nothing tells an existing account from an unknown one.
        Assert.Equal(bob.Message, unknown.Message);
        Assert.Equal(bob.RetryAfter, unknown.RetryAfter);

        // The address that was refused may still sign in to another account.
        using var other = factory.CreateOidcClient("10.1.0.9");
        using var response = await PostSignInAsync(other, "carol", "wrong");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(WrongPasswordMessage, await ErrorMessageAsync(response));
    }

    [Fact]
    public async Task SecurityPage_RecoveryCodeGuessesOverTheAccountLimit_Get429_AndAreNotCounted()
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "rl-recovery-codes");
        using var browser = factory.CreateOidcClient("10.1.9.1");
        // The sign-in spends one of the account's permits; setting up the authenticator spends none.
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "rl-recovery-codes"));
        await TwoFactor.TwoFactorSteps.EnrolAsync(browser);

        for (var i = 1; i < RateLimitFactory.SignInPerAccount; i++)
        {
            using var page = await browser.NavigateAsync("/Account/Security");
            using var wrong = await Sessions.SessionProbe.SubmitFormAsync(browser, page, "#recovery-codes-form", new Dictionary<string, string> { ["Input.Code"] = "000000" });
            Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        }
        using var form = await browser.NavigateAsync("/Account/Security");
        using var refused = await Sessions.SessionProbe.SubmitFormAsync(browser, form, "#recovery-codes-form", new Dictionary<string, string> { ["Input.Code"] = "000000" });

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        AssertRetryAfter(refused);
        Assert.StartsWith("Too many attempts. Wait ", (await OidcTestClient.ParseAsync(refused)).QuerySelector("#code-error")?.TextContent, StringComparison.Ordinal);
        Assert.Equal(RateLimitFactory.SignInPerAccount - 1, (await TwoFactor.TwoFactorSteps.AccountAsync(factory, id)).AccessFailedCount);
    }

    private async Task<(string Message, TimeSpan RetryAfter)> TripAccountLimitAsync(string[] logins, string network)
    {
        Assert.Equal(RateLimitFactory.SignInPerAccount, logins.Length);
        for (var i = 0; i < logins.Length; i++)
        {
            using var client = factory.CreateOidcClient(network + (i + 1));
            using var attempt = await PostSignInAsync(client, logins[i], "wrong-password");
            Assert.Equal(HttpStatusCode.OK, attempt.StatusCode);
            Assert.Equal(WrongPasswordMessage, await ErrorMessageAsync(attempt));
        }

        using var last = factory.CreateOidcClient(network + "9");
        using var refused = await PostSignInAsync(last, logins[0], "wrong-password");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var retryAfter = AssertRetryAfter(refused);
        // The normal sign-in page, with its security headers, saying how long to wait.
        var message = await ErrorMessageAsync(refused);
        Assert.StartsWith(TooManySignIns, message, StringComparison.Ordinal);
        Assert.Equal("DENY", refused.Headers.GetValues("X-Frame-Options").Single());
        Assert.Contains("frame-ancestors 'none'", refused.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.StartsWith("text/html", refused.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        return (message, retryAfter);
    }

    [Fact]
    public async Task SignIn_ManyLoginsFromOneAddress_AreRefusedAtTheAddressLimit_WhileShowingThePageIsNot()
    {
        using var client = factory.CreateOidcClient("10.2.0.1");
        for (var i = 0; i < RateLimitFactory.SignInPerIp; i++)
        {
            using var attempt = await PostSignInAsync(client, $"sprayed-{i}", "Summer2024!");
            Assert.Equal(HttpStatusCode.OK, attempt.StatusCode);
        }

        using var refused = await PostSignInAsync(client, "sprayed-last", "Summer2024!");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        AssertRetryAfter(refused);
        Assert.StartsWith(TooManySignIns, await ErrorMessageAsync(refused), StringComparison.Ordinal);

        // Opening the page is not an attempt (every attempt above opened it too).
        using var page = await client.NavigateAsync("/Account/Login");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);

        // Another address is not affected.
        using var neighbour = factory.CreateOidcClient("10.2.0.2");
        using var allowed = await PostSignInAsync(neighbour, "sprayed-last", "Summer2024!");
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task SignIn_AddressesOfOneIPv6Network_ShareTheAddressLimit()
    {
        for (var i = 0; i < RateLimitFactory.SignInPerIp; i++)
        {
            using var client = factory.CreateOidcClient($"2001:db8:0:7::{i + 1:x}");
            using var attempt = await PostSignInAsync(client, $"v6-{i}", "wrong");
            Assert.Equal(HttpStatusCode.OK, attempt.StatusCode);
        }

        using var sameNetwork = factory.CreateOidcClient("2001:db8:0:7:ffff:ffff:ffff:ffff");
        using var refused = await PostSignInAsync(sameNetwork, "v6-last", "wrong");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);

        using var otherNetwork = factory.CreateOidcClient("2001:db8:0:8::1");
        using var allowed = await PostSignInAsync(otherNetwork, "v6-last", "wrong");
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task Token_OnlyAuthenticatedRequestsSpendTheClientsBudget_AndTheNextOneGets429Json()
    {
        _ = factory.Services.GetRequiredService<IdentityServerMetrics>();
        using var rejections = new MetricCollector<long>(factory.Services.GetRequiredService<IMeterFactory>(),
            IdentityServerMetrics.MeterName, "idp.rate_limit.rejections");

        // Someone who knows the client id but not its secret spends nothing of its budget.
        using var attacker = factory.CreateOidcClient("10.3.0.1");
        for (var i = 0; i < RateLimitFactory.TokenPerClient; i++)
        {
            var wrong = await attacker.TokenAsync(WorkerCredentials("not-the-secret"));
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.Status);
            Assert.Equal("invalid_client", wrong.Error);
        }

        // The client's own budget is per client, whatever address it calls from.
        for (var i = 0; i < RateLimitFactory.TokenPerClient; i++)
        {
            using var worker = factory.CreateOidcClient($"10.3.1.{i + 1}");
            var issued = await worker.TokenAsync(WorkerCredentials());
            Assert.Equal(HttpStatusCode.OK, issued.Status);
        }
        using var next = factory.CreateOidcClient("10.3.1.9");
        var refused = await next.TokenAsync(WorkerCredentials());

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
        Assert.Equal("temporarily_unavailable", refused.Error);
        Assert.StartsWith("Too many requests. Try again in ", refused["error_description"], StringComparison.Ordinal);
        Assert.Equal("application/json", refused.Message.Content.Headers.ContentType!.MediaType);
        Assert.True(refused.Message.Headers.CacheControl!.NoStore);
        AssertRetryAfter(refused.Message);
        // Operators see the refusal on the meter, tagged with the limit (never the client id).
        var measurement = Assert.Single(rejections.GetMeasurementSnapshot());
        Assert.Equal(1, measurement.Value);
        Assert.Equal("token", measurement.Tags["limit"]);

        // A wrong secret is still told it is wrong, not that the client is busy.
        using var stranger = factory.CreateOidcClient("10.3.2.1");
        Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.TokenAsync(WorkerCredentials("not-the-secret"))).Status);
    }

    [Fact]
    public async Task Token_ExemptClient_IsNeverLimited_AndCorrectSecretsSpendNothingOfTheAddressBudget()
    {
        using var client = factory.CreateOidcClient("10.4.0.1");
        var limit = Math.Max(RateLimitFactory.TokenPerClient, RateLimitFactory.ClientAuthenticationFailures);
        for (var i = 0; i < limit + 3; i++)
        {
            var response = await client.TokenAsync(AdminCredentials());
            Assert.Equal(HttpStatusCode.OK, response.Status);
        }
    }

    [Fact]
    public async Task ClientAuthentication_RepeatedFailuresFromOneAddress_RefuseEveryClientThere_BeforeTheSecretIsChecked()
    {
        using var guesser = factory.CreateOidcClient("10.5.0.1");
        for (var i = 0; i < RateLimitFactory.ClientAuthenticationFailures; i++)
        {
            var wrong = await guesser.TokenAsync(AdminCredentials($"guess-{i}"));
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.Status);
        }

        // Even the right secret is refused now, at every endpoint that authenticates clients.
        var token = await guesser.TokenAsync(AdminCredentials());
        Assert.Equal(HttpStatusCode.TooManyRequests, token.Status);
        Assert.Equal("temporarily_unavailable", token.Error);
        AssertRetryAfter(token.Message);
        var introspection = await guesser.IntrospectAsync("any-token");
        Assert.Equal(HttpStatusCode.TooManyRequests, introspection.Status);
        Assert.Equal("temporarily_unavailable", introspection.Error);

        using var elsewhere = factory.CreateOidcClient("10.5.0.2");
        Assert.Equal(HttpStatusCode.OK, (await elsewhere.TokenAsync(AdminCredentials())).Status);
    }

    [Fact]
    public async Task ClientAuthentication_GuessesThroughADoubleSlashPath_CountAndAreRefusedAlike()
    {
        // "//connect/token" reaches OpenIddict's token endpoint as "/connect/token" does: it must not escape the limit.
        using var guesser = factory.CreateOidcClient("10.5.0.9");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= RateLimitFactory.ClientAuthenticationFailures; i++)
        {
            using var response = await guesser.Http.PostAsync(new Uri("https://localhost//connect/token"),
                new FormUrlEncodedContent(AdminCredentials($"guess-{i}").Select(static p => new KeyValuePair<string, string>(p.Item1, p.Item2))));
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, RateLimitFactory.ClientAuthenticationFailures), HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await guesser.TokenAsync(AdminCredentials())).Status);
    }

    [Fact]
    public async Task AdminApi_CallerOverLimit_Gets429ProblemJson()
    {
        using var client = factory.CreateOidcClient("10.6.0.1");
        var token = await AdminTestHelpers.AdminTokenAsync(client);
        for (var i = 0; i < RateLimitFactory.Admin; i++)
        {
            using var allowed = await AdminTestHelpers.SendAsync(client.Http, HttpMethod.Get, "/api/admin/users", token);
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var refused = await AdminTestHelpers.SendAsync(client.Http, HttpMethod.Get, "/api/admin/users", token);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        AssertRetryAfter(refused);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType!.MediaType);
        var problem = await AdminTestHelpers.JsonAsync(refused);
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.StartsWith("Try again in ", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminPages_AdminOverLimit_GetsTheFriendlyErrorPage()
    {
        using var admin = factory.CreateOidcClient("10.7.0.1");
        await admin.SignInThroughPortalAsync();
        for (var i = 0; i < RateLimitFactory.Admin; i++)
        {
            using var allowed = await admin.NavigateAsync("/Admin");
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var refused = await admin.NavigateAsync("/Admin");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var seconds = (int)AssertRetryAfter(refused).TotalSeconds;
        var page = await OidcTestClient.ParseAsync(refused);
        Assert.Equal($"Too many requests. Wait {IdentityServer.RateLimiting.RateLimitResponses.Describe(seconds)}, then try again.",
            page.QuerySelector("#error-description")!.TextContent);
        Assert.Equal("DENY", refused.Headers.GetValues("X-Frame-Options").Single());
    }

    internal static (string, string)[] WorkerCredentials(string secret = TestSeed.WorkerSecret) =>
        [("grant_type", "client_credentials"), ("client_id", TestSeed.WorkerClientId), ("client_secret", secret), ("scope", TestSeed.ApiScope)];

    internal static (string, string)[] AdminCredentials(string secret = TestSeed.AdminClientSecret) =>
        [("grant_type", "client_credentials"), ("client_id", TestSeed.AdminClientId), ("client_secret", secret), ("scope", "idp.admin")];

    internal static async Task<HttpResponseMessage> PostSignInAsync(OidcTestClient client, string login, string password)
    {
        using var page = await client.NavigateAsync("/Account/Login");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        return await client.SubmitAsync(page, new Dictionary<string, string> { ["Input.Login"] = login, ["Input.Password"] = password });
    }

    internal static async Task<string> ErrorMessageAsync(HttpResponseMessage response) =>
        (await OidcTestClient.ParseAsync(response)).QuerySelector("#login-error")?.TextContent ?? "(no message)";

    internal static TimeSpan AssertRetryAfter(HttpResponseMessage response)
    {
        var delta = response.Headers.RetryAfter?.Delta;
        Assert.NotNull(delta);
        Assert.InRange(delta.Value.TotalSeconds, 1, 30 * 60);
        return delta.Value;
    }
}
