using IdentityServer.Scheduling;
using Microsoft.Extensions.Options;

namespace IdentityServer.BackchannelLogout;

internal static class BackchannelLogoutSetup
{
    /// <summary>
    /// OpenID Connect Back-Channel Logout 1.0: discovery metadata, the delivery job (signalled when a
    /// session ends, and polling for retries) and the HTTP client it posts logout tokens with.
    /// </summary>
    public static WebApplicationBuilder AddBackchannelLogout(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<BackchannelLogoutOptions>()
            .Bind(builder.Configuration.GetSection(BackchannelLogoutOptions.Section))
            .ValidateDataAnnotations()
            .Validate(static o => o.MaxRetryDelay >= o.RetryDelay, "BackchannelLogout:MaxRetryDelay must not be shorter than BackchannelLogout:RetryDelay.")
            .Validate(static o => !o.AllowPrivateNetworks.Any(string.IsNullOrWhiteSpace), "BackchannelLogout:AllowPrivateNetworks lists client ids; it must not contain empty entries.")
            .ValidateOnStart();
        builder.Services.AddSingleton(static services => BackchannelLogoutTargets.For(
            services.GetRequiredService<IHostEnvironment>(), services.GetRequiredService<IOptions<BackchannelLogoutOptions>>().Value));

        builder.Services.AddSingleton<LogoutTokenFactory>();

        AddHttpClient(builder.Services, BackchannelLogoutJob.HttpClientName, allowPrivateNetworks: false);
        AddHttpClient(builder.Services, BackchannelLogoutJob.PrivateNetworksHttpClientName, allowPrivateNetworks: true);

        var interval = builder.Configuration.GetSection(BackchannelLogoutOptions.Section).Get<BackchannelLogoutOptions>()?.PollInterval
            ?? new BackchannelLogoutOptions().PollInterval;
        // Durable: BackchannelLogoutOutbox.SignalAsync also triggers it by key when a session ends.
        builder.AddRecurringJob<BackchannelLogoutJob>(BackchannelLogoutOutbox.JobKey, "deliver-backchannel-logout-every-interval", interval);
        return builder;
    }

    /// <summary>
    /// One client per target policy (<see cref="BackchannelLogoutConnector"/>), so that their connection
    /// pools stay apart: a pooled connection is reused without asking the connector again.
    /// </summary>
    private static void AddHttpClient(IServiceCollection services, string name, bool allowPrivateNetworks) =>
        services.AddHttpClient(name, static (services, client) =>
            {
                client.Timeout = services.GetRequiredService<IOptions<BackchannelLogoutOptions>>().Value.Timeout;
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // A redirect could send the token somewhere the client never registered.
                AllowAutoRedirect = false,
                UseCookies = false,
                // Through a proxy the connector would check the proxy's address, and the proxy would reach anything.
                UseProxy = false,
                ConnectCallback = new BackchannelLogoutConnector(allowPrivateNetworks).ConnectAsync,
            });
}
