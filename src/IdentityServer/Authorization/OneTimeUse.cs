using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Authorization;

/// <summary>
/// Values a client may present once (a client assertion's <c>jti</c>, a DPoP proof's <c>jti</c>),
/// remembered as rows of the token table under a unique reference id until they could no longer be accepted.
/// Two requests with one value, on one node or two sharing the database, cannot both insert it: the second
/// is refused. The rows are never issued or accepted as tokens; they stay valid until their expiry, so
/// pruning removes them only once expired, whatever <c>Pruning:MinimumAge</c> says. Each use costs one insert.
/// </summary>
internal sealed class OneTimeUse(IOpenIddictTokenManager tokens, ApplicationDbContext database, TimeProvider clock)
{
    /// <summary>
    /// The reference of a value within a scope (a client id, a key thumbprint): the scope's length first,
    /// so that no other scope and value make the same text; hashed, so the stored id has a fixed length. A kind
    /// other than client assertions' (which have none) prefixes it: base64 has no colon, so kinds never meet.
    /// </summary>
    public static string Reference(string? kind, string scope, string value) => (kind is null ? "" : kind + ":") + Convert.ToBase64String(
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{scope.Length}:{scope}:{value}")));

    /// <summary>Remembers the reference until <paramref name="expires"/>; false when it was used already.</summary>
    public async Task<bool> TryUseAsync(string reference, string type, DateTimeOffset expires, CancellationToken cancellationToken)
    {
        if (await tokens.FindByReferenceIdAsync(reference, cancellationToken) is not null)
        {
            return false;
        }
        try
        {
            await tokens.CreateAsync(new OpenIddictTokenDescriptor
            {
                ReferenceId = reference,
                Type = type,
                Status = Statuses.Valid,
                CreationDate = clock.GetUtcNow(),
                ExpirationDate = expires,
            }, cancellationToken);
            return true;
        }
        catch (OpenIddictExceptions.ValidationException)
        {
            // The manager found the reference just before inserting: another request remembered it first.
            return false;
        }
        catch (DbUpdateException exception) when (IsUniqueViolation(exception))
        {
            // Another request inserted it first. The row that failed must not be written with this request's next save.
            foreach (var entry in database.ChangeTracker.Entries<OpenIddictEntityFrameworkCoreToken>().Where(static e => e.State == EntityState.Added).ToList())
            {
                entry.State = EntityState.Detached;
            }
            return false;
        }
    }

    /// <summary>A unique index refused the row (SQLite's constraint error, PostgreSQL's 23505); any other failure is not a replay.</summary>
    private static bool IsUniqueViolation(DbUpdateException exception) => exception.InnerException switch
    {
        Microsoft.Data.Sqlite.SqliteException sqlite => sqlite.SqliteErrorCode == 19,
        Npgsql.PostgresException postgres => postgres.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation,
        _ => false,
    };
}
