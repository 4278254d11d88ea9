using System.Net;
using IdentityServer.Data;
using IdentityServer.Seeding;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.People.PeopleSteps;

namespace IdentityServer.Tests.People;

/// <summary>
/// How the seed file, applied at every start, meets changes made at run time: the seed's users get
/// the seed's fields back, everything the seed does not name stays as the admin left it.
/// </summary>
public sealed class SeedInteractionTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    private static readonly string[] AdminRole = ["admin"];

    [Fact]
    public async Task Restart_SeedRestoresSeededFields_LeavesRuntimeUsersAndUnseededClaimsAlone()
    {
        using var client = factory.CreateOidcClient();
        var created = await CreateUserAsync(client, new { userName = "runtime-kim", email = "runtime-kim@example.com", roles = AdminRole, claims = new[] { new { type = "name", value = "Kim Runtime" } }, sendInvitation = false });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var kim = (await JsonAsync(created)).GetProperty("id").GetString()!;
        var bob = await AdminTestHelpers.UserIdAsync(factory, TestSeed.SecondUserName);
        var alice = await AdminTestHelpers.UserIdAsync(factory, TestSeed.UserName);
        Assert.Equal(HttpStatusCode.OK, (await SendJsonAsync(client, HttpMethod.Patch, $"/api/admin/users/{bob}", new { roles = AdminRole })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendJsonAsync(client, HttpMethod.Patch, $"/api/admin/users/{alice}",
            new { claims = new[] { new { type = "name", value = "Alice Renamed" }, new { type = "locale", value = "fr" } } })).StatusCode);

        // What a restart does with the same seed file.
        await factory.WithScopeAsync(async services =>
        {
            await services.GetRequiredService<Seeder>().ApplyAsync(SeedLoader.Load(factory.SeedPath), "test", CancellationToken.None);
            return 0;
        });

        var (kimRoles, kimClaims) = await RolesAndClaimsAsync(kim);
        Assert.Equal(AdminRole, kimRoles);
        Assert.Equal(["name=Kim Runtime"], kimClaims);
        // Roles is a seeded user's complete role list: the runtime role is gone again.
        Assert.Empty((await RolesAndClaimsAsync(bob)).Roles);
        // The seed's claim wins; a claim type the seed does not name stays.
        Assert.Equal(["locale=fr", "name=Alice Example"], (await RolesAndClaimsAsync(alice)).Claims);
    }

    [Fact]
    public async Task Restart_SeedNamingASelfRegisteredAccount_StopsWithAClearMessage_AndGivesItNothing()
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "ops-admin");
        await factory.WithScopeAsync(async services =>
        {
            var users = services.GetRequiredService<UserManager<ApplicationUser>>();
            return await users.SetAuthenticationTokenAsync((await users.FindByIdAsync(id))!, "IdentityServer", "SelfRegistered", "true");
        });
        var seed = SeedLoader.Load(factory.SeedPath);
        seed.Users.Add(new SeedUser { UserName = "ops-admin", Email = "ops@example.com", Roles = ["admin"] });

        var refused = await Assert.ThrowsAsync<SeedException>(() => factory.WithScopeAsync(async services =>
        {
            await services.GetRequiredService<Seeder>().ApplyAsync(seed, "test", CancellationToken.None);
            return 0;
        }));

        Assert.Contains("'ops-admin' belongs to an account that registered itself", refused.Message, StringComparison.Ordinal);
        Assert.Empty((await RolesAndClaimsAsync(id)).Roles);
    }

    private Task<(IList<string> Roles, List<string> Claims)> RolesAndClaimsAsync(string id) => factory.WithScopeAsync(async services =>
    {
        var users = services.GetRequiredService<UserManager<ApplicationUser>>();
        var user = (await users.FindByIdAsync(id))!;
        var claims = (await users.GetClaimsAsync(user)).Select(static c => $"{c.Type}={c.Value}").Order(StringComparer.Ordinal).ToList();
        return (await users.GetRolesAsync(user), claims);
    });
}
