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
            .ValidateOnStart();

        builder.Services.AddSingleton<LogoutTokenFactory>();
        builder.Services.AddOpenIddict().AddServer(static server => server.AddEventHandler(BackchannelLogoutDiscoveryHandler.Descriptor));

        builder.Services.AddHttpClient(BackchannelLogoutJob.HttpClientName, static (services, client) =>
            {
                client.Timeout = services.GetRequiredService<IOptions<BackchannelLogoutOptions>>().Value.Timeout;
            })
            // A redirect could send the token somewhere the client never registered.
            .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });

        var interval = builder.Configuration.GetSection(BackchannelLogoutOptions.Section).Get<BackchannelLogoutOptions>()?.PollInterval
            ?? new BackchannelLogoutOptions().PollInterval;
        // Durable: BackchannelLogoutOutbox.SignalAsync also triggers it by key when a session ends.
        builder.AddRecurringJob<BackchannelLogoutJob>(BackchannelLogoutOutbox.JobKey, "deliver-backchannel-logout-every-interval", interval);
        return builder;
    }
}
