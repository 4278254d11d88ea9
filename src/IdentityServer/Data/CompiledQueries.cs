using IdentityServer.Sessions;
using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityServer.Data;

/// <summary>
/// The lookups every token, introspection and refresh request makes, compiled once. A LINQ query is
/// translated once too, but EF Core still rebuilds and hashes its expression tree on every call to
/// find the cached translation; a compiled query skips that. Each has the same shape (includes,
/// tracking) as the query it replaces, so callers see the same entities. EF Core recompiles a query
/// for a context with another model (SQLite or PostgreSQL).
/// </summary>
internal static class CompiledQueries
{
    /// <summary>
    /// OpenIddict's stores look for an entity the request already tracks before querying (a token
    /// read for validation is the one later redeemed); this does the same, then runs the compiled query.
    /// </summary>
    public static async Task<TEntity?> FindTrackedOrQueryAsync<TEntity>(
        DbContext database, string id, Func<TEntity, string?> key,
        Func<DbContext, string, CancellationToken, Task<TEntity?>> query, CancellationToken cancellationToken)
        where TEntity : class
    {
        foreach (var entry in database.ChangeTracker.Entries<TEntity>())
        {
            if (key(entry.Entity) == id)
            {
                return entry.Entity;
            }
        }
        return await query(database, id, cancellationToken);
    }

    /// <summary>A token with its client and grant, tracked (as OpenIddict's store reads it: a redemption updates it).</summary>
    public static readonly Func<DbContext, string, CancellationToken, Task<OpenIddictEntityFrameworkCoreToken?>> TokenById =
        EF.CompileAsyncQuery((DbContext database, string id, CancellationToken _) => database.Set<OpenIddictEntityFrameworkCoreToken>()
            .Include(token => token.Application)
            .Include(token => token.Authorization)
            .AsTracking()
            .FirstOrDefault(token => token.Id == id));

    /// <summary>A grant with its client, tracked (as OpenIddict's store reads it).</summary>
    public static readonly Func<DbContext, string, CancellationToken, Task<OpenIddictEntityFrameworkCoreAuthorization?>> AuthorizationById =
        EF.CompileAsyncQuery((DbContext database, string id, CancellationToken _) => database.Set<OpenIddictEntityFrameworkCoreAuthorization>()
            .Include(authorization => authorization.Application)
            .AsTracking()
            .FirstOrDefault(authorization => authorization.Id == id));

    /// <summary>An account, tracked (the user manager may update what it returns).</summary>
    public static readonly Func<ApplicationDbContext, string, CancellationToken, Task<ApplicationUser?>> UserById =
        EF.CompileAsyncQuery((ApplicationDbContext database, string id, CancellationToken _) => database.Users
            .AsTracking()
            .FirstOrDefault(user => user.Id == id));

    /// <summary>An account's stored claims (type and value), as <c>UserManager.GetClaimsAsync</c> lists them.</summary>
    public static readonly Func<ApplicationDbContext, string, IAsyncEnumerable<StoredClaim>> UserClaims =
        EF.CompileAsyncQuery((ApplicationDbContext database, string userId) => database.UserClaims
            .AsNoTracking()
            .Where(claim => claim.UserId == userId)
            .Select(claim => new StoredClaim(claim.ClaimType, claim.ClaimValue)));

    /// <summary>The names of an account's roles, as <c>UserManager.GetRolesAsync</c> lists them.</summary>
    public static readonly Func<ApplicationDbContext, string, IAsyncEnumerable<string>> UserRoleNames =
        EF.CompileAsyncQuery((ApplicationDbContext database, string userId) =>
            from link in database.UserRoles
            join role in database.Roles on link.RoleId equals role.Id
            where link.UserId == userId
            select role.Name!);

    /// <summary>What a token or page request needs to know about a session.</summary>
    public static readonly Func<ApplicationDbContext, string, CancellationToken, Task<SessionState?>> SessionState =
        EF.CompileAsyncQuery((ApplicationDbContext database, string id, CancellationToken _) => database.Sessions
            .AsNoTracking()
            .Where(session => session.Id == id)
            .Select(session => new SessionState(session.Id, session.UserId, session.ExpiresAt, session.LastSeenAt, session.EndedAt, session.Ticket))
            .FirstOrDefault());
}

internal sealed record StoredClaim(string? Type, string? Value);
