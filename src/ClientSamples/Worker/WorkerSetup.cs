using ClientSamples.Shared;
using Microsoft.Extensions.Options;
using OpenIddict.Client;

namespace ClientSamples.Worker;

internal static class WorkerSetup
{
    public static void AddWorkerSettings(this HostApplicationBuilder builder) =>
        builder.Services.AddOptions<WorkerSettings>()
            .Bind(builder.Configuration.GetSection(WorkerSettings.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

    public static void AddClientCredentials(this HostApplicationBuilder builder)
    {
        builder.Services.AddOpenIddict()
            .AddClient(options =>
            {
                options.AllowClientCredentialsFlow();
                // The worker keeps its one token in memory (AccessTokenCache); nothing to store in a database.
                options.DisableTokenStorage();
                // Tokens bound to the worker's key (RFC 9449); the identity provider registers the worker with RequireDPoP.
                options.UseDPoP();
                options.UseSystemNetHttp().SetProductInformation(typeof(WorkerSetup).Assembly);
            });

        // The registration comes from the validated settings, read when OpenIddict first needs its options.
        builder.Services.AddOptions<OpenIddictClientOptions>()
            .Configure<IOptions<WorkerSettings>>((options, settings) => options.Registrations.Add(new OpenIddictClientRegistration
            {
                Issuer = settings.Value.Issuer,
                ClientId = settings.Value.ClientId,
                ClientSecret = settings.Value.ClientSecret,
            }));

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<AccessTokenCache>();
    }

    public static void AddApiCaller(this HostApplicationBuilder builder)
    {
        builder.Services.AddHttpClient<ApiCaller>((services, client) =>
            client.BaseAddress = services.GetRequiredService<IOptions<WorkerSettings>>().Value.ApiBaseAddress);
        builder.Services.AddHostedService(services => services.GetRequiredService<ApiCaller>());
    }
}
