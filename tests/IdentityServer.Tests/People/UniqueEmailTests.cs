using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.People;

/// <summary>
/// One address, one account, decided by the database: two saves at the same moment both pass
/// Identity's check, and an address on two accounts would break every look-up by address.
/// </summary>
public sealed class UniqueEmailTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task Database_SecondAccountWithTheSameAddress_IsRefused_AccountsWithoutAnAddressAreNot()
    {
        var refused = await Assert.ThrowsAsync<DbUpdateException>(() => factory.WithScopeAsync(async services =>
        {
            // Past Identity's own check, as the second of two simultaneous saves is.
            var database = services.GetRequiredService<ApplicationDbContext>();
            var normalizer = services.GetRequiredService<ILookupNormalizer>();
            database.Users.Add(new ApplicationUser { UserName = "twin-one", NormalizedUserName = "TWIN-ONE", Email = "twin@example.com", NormalizedEmail = normalizer.NormalizeEmail("twin@example.com") });
            database.Users.Add(new ApplicationUser { UserName = "twin-two", NormalizedUserName = "TWIN-TWO", Email = "Twin@Example.com", NormalizedEmail = normalizer.NormalizeEmail("Twin@Example.com") });
            return await database.SaveChangesAsync();
        }));
        Assert.NotNull(refused);

        var saved = await factory.WithScopeAsync(async services =>
        {
            var database = services.GetRequiredService<ApplicationDbContext>();
            database.Users.Add(new ApplicationUser { UserName = "no-address-one", NormalizedUserName = "NO-ADDRESS-ONE" });
            database.Users.Add(new ApplicationUser { UserName = "no-address-two", NormalizedUserName = "NO-ADDRESS-TWO" });
            return await database.SaveChangesAsync();
        });
        Assert.Equal(2, saved);
        Assert.Equal(0, await factory.WithScopeAsync(services =>
            services.GetRequiredService<ApplicationDbContext>().Users.CountAsync(u => u.UserName!.StartsWith("twin-"))));
    }
}
