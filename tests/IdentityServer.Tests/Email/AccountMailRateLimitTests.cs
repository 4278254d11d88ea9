using System.Net;
using IdentityServer.Audit;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Sessions;
using IdentityServer.Tests.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Email.AccountMailSteps;

namespace IdentityServer.Tests.Email;

/// <summary>
/// Small mail limits (per half hour: nothing refills during a test). Requests name their client
/// address in <see cref="RateLimitFactory.ClientAddressHeader"/>.
/// </summary>
public sealed class MailLimitFactory : MailServerFactory
{
    public const int PerIp = 3;
    public const int PerAccount = 2;
    public const int PerUser = 2;

    public MailLimitFactory()
    {
        Limit("PasswordResetPerIp", PerIp);
        Limit("PasswordResetPerAccount", PerAccount);
        Limit("AccountEmailPerUser", PerUser);
    }

    public OidcTestClient CreateOidcClient(string address)
    {
        var client = CreateOidcClient();
        client.Http.DefaultRequestHeaders.Add(RateLimitFactory.ClientAddressHeader, address);
        return client;
    }

    private void Limit(string name, int permits)
    {
        Settings[$"RateLimits:{name}:PermitLimit"] = permits.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Settings[$"RateLimits:{name}:Window"] = "00:30:00";
    }

    protected override void ConfigureTestServices(IWebHostBuilder builder) =>
        builder.ConfigureTestServices(static services => services.AddSingleton<IStartupFilter, ClientAddressFilter>());

    private sealed class ClientAddressFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(static (context, nextMiddleware) =>
            {
                if (context.Request.Headers.TryGetValue(RateLimitFactory.ClientAddressHeader, out var value))
                {
                    context.Connection.RemoteIpAddress = System.Net.IPAddress.Parse(value.ToString());
                }
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}

/// <summary>RateLimits:PasswordResetPerIp, PasswordResetPerAccount and AccountEmailPerUser.</summary>
public sealed class AccountMailRateLimitTests(MailLimitFactory factory) : IClassFixture<MailLimitFactory>
{
    [Fact]
    public async Task ForgotPassword_OverTheAddressLimit_Gets429WithRetryAfter_OtherAddressesDoNot()
    {
        using var client = factory.CreateOidcClient("203.0.113.10");
        for (var i = 0; i < MailLimitFactory.PerIp; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await RequestResetAsync(client, $"nobody-{i}")).StatusCode);
        }
        var refused = await RequestResetAsync(client, "nobody-else");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.StartsWith("Too many requests. Wait ", (await OidcTestClient.ParseAsync(refused)).QuerySelector("#forgot-error")?.TextContent, StringComparison.Ordinal);

        using var other = factory.CreateOidcClient("203.0.113.11");
        Assert.Equal(HttpStatusCode.OK, (await RequestResetAsync(other, "nobody-0")).StatusCode);
    }

    [Fact]
    public async Task ForgotPassword_OverTheAccountLimit_SamePage_NoMoreMail_ByNameOrAddress()
    {
        var user = await CreateUserAsync(factory, "limited-account");
        var answers = new List<HttpStatusCode>();
        // From a fresh address each time: only the account limit applies.
        string[] logins = [user.UserName!, user.Email!, user.UserName!.ToUpperInvariant()];
        for (var i = 0; i < logins.Length; i++)
        {
            using var client = factory.CreateOidcClient($"198.51.100.{i + 1}");
            var answer = await RequestResetAsync(client, logins[i]);
            answers.Add(answer.StatusCode);
            Assert.NotNull((await OidcTestClient.ParseAsync(answer)).QuerySelector("#requested"));
        }
        Assert.All(answers, static a => Assert.Equal(HttpStatusCode.OK, a));

        await factory.Mail.NextMailToAsync(user.Email!);
        await factory.Mail.NextMailToAsync(user.Email!);
        var events = await EventsAsync(factory, SecurityEventTypes.PasswordResetRequested, user.Id);
        Assert.Equal([null, null, "rate_limited"], events.Select(static e => e.Detail));
        Assert.Null(await factory.Mail.TryNextMailToAsync(user.Email!, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task EmailPage_OverTheUserLimit_Gets429_AndSendsNoMail()
    {
        var user = await CreateUserAsync(factory, "limited-user", emailVerified: false);
        using var client = factory.CreateOidcClient("192.0.2.20");
        await client.SignInThroughPortalAsync(user.UserName!, Password);
        for (var i = 0; i < MailLimitFactory.PerUser; i++)
        {
            var sent = await client.SubmitFormAsync(await client.NavigateAsync("/Account/Email"), "#verify-form");
            Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
            await factory.Mail.NextMailToAsync(user.Email!);
        }
        var refused = await client.SubmitFormAsync(await client.NavigateAsync("/Account/Email"), "#change-form",
            new Dictionary<string, string> { ["Input.NewEmail"] = "limited-user-new@example.com" });
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.StartsWith("Too many mails sent. Wait ", (await OidcTestClient.ParseAsync(refused)).QuerySelector("#email-error")?.TextContent, StringComparison.Ordinal);
        Assert.Null(await factory.Mail.TryNextMailToAsync("limited-user-new@example.com", TimeSpan.FromSeconds(1)));
    }
}
