using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Data;

internal static class UserLookup
{
    /// <summary>
    /// The account with this id, read with a LINQ query. UserManager.FindByIdAsync goes through
    /// DbSet.FindAsync, whose query EF Core re-evaluates by compiling an expression on every call;
    /// on the token endpoint that compilation cost more than the rest of the lookup.
    /// </summary>
    public static Task<ApplicationUser?> FindByIdFastAsync(this UserManager<ApplicationUser> users, string id, CancellationToken cancellationToken) =>
        users.Users.SingleOrDefaultAsync(user => user.Id == id, cancellationToken);
}
