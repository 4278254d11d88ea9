using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.TwoFactor;

internal static class AccountReload
{
    /// <summary>
    /// The account loaded anew, with nothing of it left tracked from before: an Identity save that
    /// failed on the concurrency stamp (another write came first) leaves the account and its token
    /// rows (authenticator key, recovery codes) modified in the unit of work, and Identity's stores
    /// would read those stale entities back instead of the database.
    /// </summary>
    public static async Task<ApplicationUser?> ReloadAccountAsync(this ApplicationDbContext database, UserManager<ApplicationUser> users, string userId)
    {
        foreach (var entry in database.ChangeTracker.Entries()
            .Where(e => (e.Entity is ApplicationUser u && u.Id == userId) || (e.Entity is IdentityUserToken<string> t && t.UserId == userId))
            .ToList())
        {
            entry.State = EntityState.Detached;
        }
        return await users.FindByIdAsync(userId);
    }
}
