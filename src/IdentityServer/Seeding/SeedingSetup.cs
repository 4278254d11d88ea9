using IdentityServer.BackchannelLogout;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace IdentityServer.Seeding;

internal static class SeedingSetup
{
    public static WebApplicationBuilder AddSeeding(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<Seeder>();
        return builder;
    }

    /// <summary>Applies <c>Seed:Path</c>, or the demo set in Development when none is configured.</summary>
    public static async Task SeedAsync(this WebApplication app)
    {
        var path = app.Configuration["Seed:Path"];
        SeedDocument document;
        string source;
        if (!string.IsNullOrWhiteSpace(path))
        {
            source = Path.GetFullPath(path);
            document = SeedLoader.Load(source, app.Services.GetRequiredService<BackchannelLogoutTargets>());
        }
        else if (app.Environment.IsDevelopment())
        {
            source = "(development demo set)";
            document = DevelopmentSeed.Document;
            app.Lifetime.ApplicationStarted.Register(() => PrintDemoBanner(app));
        }
        else
        {
            return;
        }

        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<Seeder>().ApplyAsync(document, source, app.Lifetime.ApplicationStopping);
    }

    private static void PrintDemoBanner(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        var url = addresses?.FirstOrDefault() ?? "http://localhost:5000";
        app.Logger.LogInformation(
            "Identity provider (Development) listening on {Url}. Demo user: {User} / {Password}. " +
            "Demo client: {ClientId} / {Secret}, redirect URI {RedirectUri}. Discovery: {Url}/.well-known/openid-configuration",
            url, DevelopmentSeed.UserName, DevelopmentSeed.Password, DevelopmentSeed.WebClientId,
            DevelopmentSeed.WebClientSecret, DevelopmentSeed.WebRedirectUri, url);
    }
}
