using System.Net;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.RateLimiting;

/// <summary>
/// A server with small limits (per half hour: a permit comes back only after several minutes, so none
/// refills during a test, however loaded the machine) and one exempt client.
/// The test server has no client address: a request names one in <see cref="ClientAddressHeader"/>.
/// </summary>
public class RateLimitFactory : IdentityServerFactory
{
    public const string ClientAddressHeader = "X-Test-Client-Address";

    public const int SignInPerIp = 4;
    public const int SignInPerAccount = 3;
    public const int TokenPerClient = 3;
    public const int ClientAuthenticationFailures = 3;
    public const int Admin = 3;

    public RateLimitFactory()
    {
        Limit("SignInPerIp", SignInPerIp, "00:30:00");
        Limit("SignInPerAccount", SignInPerAccount, "00:30:00");
        Limit("Token", TokenPerClient, "00:30:00");
        Limit("ClientAuthenticationFailuresPerIp", ClientAuthenticationFailures, "00:30:00");
        Limit("Admin", Admin, "00:30:00");
        Settings["RateLimits:Token:ExemptClients:0"] = TestSeed.AdminClientId;
    }

    protected void Limit(string name, int permits, string window)
    {
        Settings[$"RateLimits:{name}:PermitLimit"] = permits.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Settings[$"RateLimits:{name}:Window"] = window;
    }

    /// <summary>A client whose requests come from the given address.</summary>
    public OidcTestClient CreateOidcClient(string address)
    {
        var client = CreateOidcClient();
        client.Http.DefaultRequestHeaders.Add(ClientAddressHeader, address);
        return client;
    }

    protected override void ConfigureTestServices(IWebHostBuilder builder) =>
        builder.ConfigureTestServices(static services => services.AddSingleton<IStartupFilter, ClientAddressFilter>());

    private sealed class ClientAddressFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(static (context, nextMiddleware) =>
            {
                if (context.Request.Headers.TryGetValue(ClientAddressHeader, out var value))
                {
                    context.Connection.RemoteIpAddress = IPAddress.Parse(value.ToString());
                }
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}

/// <summary>The same limits, all switched off by <c>RateLimits:Enabled=false</c>.</summary>
public sealed class DisabledRateLimitFactory : RateLimitFactory
{
    public DisabledRateLimitFactory() => Settings["RateLimits:Enabled"] = "false";
}

/// <summary>One token per client every two seconds, to see a limit refill.</summary>
public sealed class ShortWindowRateLimitFactory : RateLimitFactory
{
    public ShortWindowRateLimitFactory() => Limit("Token", 1, "00:00:02");
}
