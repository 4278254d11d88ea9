using IdentityServer.BackchannelLogout;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace IdentityServer.Seeding;

internal static class SeedingSetup
{
    public static WebApplicationBuilder AddSeeding(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<Seeder>();
        builder.Services.AddScoped<DemoSetGuard>();
        return builder;
    }

    /// <summary>
    /// Applies <c>Seed:Path</c>, or the demo set in Development when none is configured; outside
    /// Development, then refuses a database that holds the demo set (<see cref="DemoSetGuard"/>).
    /// </summary>
    public static async Task SeedAsync(this WebApplication app)
    {
        var path = app.Configuration["Seed:Path"];
        (SeedDocument Document, string Source)? seed = null;
        if (!string.IsNullOrWhiteSpace(path))
        {
            var source = Path.GetFullPath(path);
            seed = (SeedLoader.Load(source, app.Services.GetRequiredService<BackchannelLogoutTargets>()), source);
        }
        else if (app.Environment.IsDevelopment())
        {
            seed = (DevelopmentSeed.Document, "(development demo set)");
            app.Lifetime.ApplicationStarted.Register(() => PrintDemoBanner(app));
        }

        await using var scope = app.Services.CreateAsyncScope();
        if (seed is var (document, from))
        {
            await scope.ServiceProvider.GetRequiredService<Seeder>().ApplyAsync(document, from, app.Lifetime.ApplicationStopping);
        }
        if (!app.Environment.IsDevelopment())
        {
            await scope.ServiceProvider.GetRequiredService<DemoSetGuard>().ThrowIfPresentAsync(app.Lifetime.ApplicationStopping);
        }
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
