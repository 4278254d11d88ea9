using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using IdentityServer.Data;
using OpenIddict.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Authorization;

/// <summary>
/// OpenIddict's Entity Framework Core token store, with one shortcut when a token row is created.
/// The stock store links a new token to its client and grant by loading both rows (two
/// <c>FindAsync</c> calls, each a query that EF Core also has to translate on every call) only to
/// copy their keys into the new row's foreign-key columns. Here a new token remembers the two keys
/// and the insert writes them straight into those columns. The database still checks both foreign
/// keys on insert, so a token can never point at a client or grant that does not exist; reading a
/// token's client or grant later loads them as before.
/// While a token response is being prepared (<see cref="TokenWriteBatch"/>), created and updated rows
/// are left in the unit of work for the batch to write in one transaction.
/// </summary>
internal sealed class TokenStore(
    IMemoryCache cache,
    IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options,
    TokenWriteBatch batch)
    : OpenIddictEntityFrameworkCoreTokenStore(cache, context, options)
{
    // Foreign-key columns of the token table (shadow properties of OpenIddict's model).
    private const string ApplicationKey = "ApplicationId";
    private const string AuthorizationKey = "AuthorizationId";

    // Keys of tokens being created (not yet tracked), by token instance.
    private readonly ConditionalWeakTable<OpenIddictEntityFrameworkCoreToken, PendingKeys> pending = new();

    /// <summary>As the stock store (a tracked instance first, else the row with its client and grant), with a compiled query.</summary>
    public override async ValueTask<OpenIddictEntityFrameworkCoreToken?> FindByIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        return await CompiledQueries.FindTrackedOrQueryAsync(
            await Context.GetDbContextAsync(cancellationToken), identifier, static token => token.Id, CompiledQueries.TokenById, cancellationToken);
    }

    public override async ValueTask SetApplicationIdAsync(OpenIddictEntityFrameworkCoreToken token, string? identifier, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(identifier) || token.Application is not null || await IsTrackedAsync(token, cancellationToken))
        {
            ForgetPending(token).Application = null;
            await base.SetApplicationIdAsync(token, identifier, cancellationToken);
            return;
        }
        pending.GetOrCreateValue(token).Application = identifier;
    }

    public override async ValueTask SetAuthorizationIdAsync(OpenIddictEntityFrameworkCoreToken token, string? identifier, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(identifier) || token.Authorization is not null || await IsTrackedAsync(token, cancellationToken))
        {
            ForgetPending(token).Authorization = null;
            await base.SetAuthorizationIdAsync(token, identifier, cancellationToken);
            return;
        }
        pending.GetOrCreateValue(token).Authorization = identifier;
    }

    public override async ValueTask<string?> GetApplicationIdAsync(OpenIddictEntityFrameworkCoreToken token, CancellationToken cancellationToken) =>
        pending.TryGetValue(token, out var keys) && keys.Application is { } key ? key : await base.GetApplicationIdAsync(token, cancellationToken);

    public override async ValueTask<string?> GetAuthorizationIdAsync(OpenIddictEntityFrameworkCoreToken token, CancellationToken cancellationToken) =>
        pending.TryGetValue(token, out var keys) && keys.Authorization is { } key ? key : await base.GetAuthorizationIdAsync(token, cancellationToken);

    public override async ValueTask CreateAsync(OpenIddictEntityFrameworkCoreToken token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (!pending.TryGetValue(token, out var keys) && !batch.Deferring)
        {
            await base.CreateAsync(token, cancellationToken);
            return;
        }

        var database = await Context.GetDbContextAsync(cancellationToken);
        var entry = database.Add(token);
        if (keys?.Application is { } application)
        {
            entry.Property(ApplicationKey).CurrentValue = application;
        }
        if (keys?.Authorization is { } authorization)
        {
            entry.Property(AuthorizationKey).CurrentValue = authorization;
        }
        // The keys stay remembered (the instance is collected with the token): reading them back
        // needs no query.
        if (!batch.Deferring)
        {
            await database.SaveChangesAsync(cancellationToken);
        }
    }

    public override async ValueTask UpdateAsync(OpenIddictEntityFrameworkCoreToken token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        var database = await Context.GetDbContextAsync(cancellationToken);
        var entry = database.Entry(token);
        // Codes are redeemed at once, as OpenIddict does (the redemption stands even if the response
        // fails later, and a concurrent second use fails there and is treated as reuse); so is anything
        // not tracked here.
        if (!batch.Deferring || entry.State == EntityState.Detached
            || token.Type is TokenTypeIdentifiers.Private.AuthorizationCode or TokenTypeIdentifiers.Private.DeviceCode)
        {
            await base.UpdateAsync(token, cancellationToken);
            return;
        }
        if (entry.State == EntityState.Added)
        {
            return; // not written yet: the batch inserts its current values
        }
        // Left to change tracking, so that the batch writes only the columns that changed (a status
        // another request set meanwhile is not overwritten), with a new concurrency token checked
        // against the one read.
        token.ConcurrencyToken = Guid.NewGuid().ToString();
    }

    private async ValueTask<bool> IsTrackedAsync(OpenIddictEntityFrameworkCoreToken token, CancellationToken cancellationToken)
    {
        var database = await Context.GetDbContextAsync(cancellationToken);
        return database.Entry(token).State != EntityState.Detached;
    }

    private PendingKeys ForgetPending(OpenIddictEntityFrameworkCoreToken token) =>
        pending.TryGetValue(token, out var keys) ? keys : PendingKeys.None;

    private sealed class PendingKeys
    {
        /// <summary>A throw-away instance for tokens without remembered keys.</summary>
        public static PendingKeys None => new();

        public string? Application { get; set; }

        public string? Authorization { get; set; }
    }
}
