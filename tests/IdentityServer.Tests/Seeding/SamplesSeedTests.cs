using IdentityServer.Seeding;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Seeding;

/// <summary>
/// The samples (<c>run-all.sh</c>) start the server in Development with their own seed on the same
/// database as <c>dotnet run</c>: the demo admin must come out of that as she went in.
/// </summary>
public sealed class SamplesSeedTests
{
    // Development prints the demo credentials on purpose, and the samples seed holds the same ones:
    // published values, not secrets, for the log scan of a test run.
    public SamplesSeedTests() => TestLogSink.IgnoreAsSecrets([DevelopmentSeed.Password, DevelopmentSeed.WebClientSecret]);

    [Fact]
    public async Task SamplesSeed_OverTheDemoSet_LeavesTheDemoAdminAsSheWas()
    {
        using var factory = new IdentityServerFactory { EnvironmentName = "Development" };
        factory.Settings.Remove("Seed:Path");
        _ = factory.Services; // starts the host: the demo set is applied
        var before = await AliceAsync(factory);

        await factory.WithScopeAsync(async services =>
        {
            var samples = SeedLoader.Load(Repository.File("src", "ClientSamples", "seed.json"),
                services.GetRequiredService<IdentityServer.BackchannelLogout.BackchannelLogoutTargets>());
            await services.GetRequiredService<Seeder>().ApplyAsync(samples, "samples", CancellationToken.None);
            return 0;
        });
        var after = await AliceAsync(factory);

        Assert.Equal(["admin"], after.Roles);
        Assert.Equal(before.Roles, after.Roles);
        Assert.Equal(before.Claims, after.Claims);
    }

    private static Task<(IList<string> Roles, string[] Claims)> AliceAsync(IdentityServerFactory factory) =>
        factory.WithScopeAsync(async services =>
        {
            var users = services.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<IdentityServer.Data.ApplicationUser>>();
            var alice = await users.FindByNameAsync(DevelopmentSeed.UserName) ?? throw new InvalidOperationException("no alice");
            var claims = (await users.GetClaimsAsync(alice)).Select(static c => $"{c.Type}={c.Value}").Order(StringComparer.Ordinal).ToArray();
            return (await users.GetRolesAsync(alice), claims);
        });

}
