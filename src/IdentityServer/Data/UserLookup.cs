using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace IdentityServer.Data;

internal static class UserLookup
{
    /// <summary>
    /// The account with this id, tracked by the user manager's own context as its lookup would be.
    /// UserManager.FindByIdAsync goes through DbSet.FindAsync, for which a profile of the token
    /// endpoint showed EF Core compiling an expression on every call; this query is compiled once.
    /// </summary>
    public static Task<ApplicationUser?> FindByIdFastAsync(this UserManager<ApplicationUser> users, string id, CancellationToken cancellationToken) =>
        CompiledQueries.UserById(users.Database(), id, cancellationToken);

    /// <summary>The context behind the user manager's store (the request's <see cref="ApplicationDbContext"/>).</summary>
    public static ApplicationDbContext Database(this UserManager<ApplicationUser> users) =>
        (ApplicationDbContext)((IInfrastructure<IServiceProvider>)users.Users).GetService<ICurrentDbContext>().Context;
}
