namespace ClientSamples.WebApp;

internal static class WebAppSetup
{
    public static void AddWebAppSettings(this WebApplicationBuilder builder) =>
        builder.Services.AddOptions<WebAppSettings>()
            .Bind(builder.Configuration.GetSection(WebAppSettings.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
}
