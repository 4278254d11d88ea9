using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityServer.Authorization;

/// <summary>
/// OpenIddict's application manager with two shortcuts on the hot path: client lookups come from
/// <see cref="LookupCache{TEntity}"/>, and a successful secret check from <see cref="ClientSecretCache"/>.
/// A change is published to every node (<see cref="ClientAndScopeChanges"/>).
/// Tokens and authorizations are never cached (see AuthorizationSetup).
/// </summary>
internal sealed class CachingApplicationManager(
    IOpenIddictApplicationCache<OpenIddictEntityFrameworkCoreApplication> cache,
    ILogger<OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictApplicationStore<OpenIddictEntityFrameworkCoreApplication> store,
    ClientSecretCache secrets,
    LookupCache<OpenIddictEntityFrameworkCoreApplication> lookups,
    ClientAndScopeChanges changes,
    RemoteKeySets remoteKeySets,
    TimeProvider clock)
    : OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>(cache, logger, options, store)
{
    /// <summary>
    /// OpenIddict wants a confidential client's secret or stored keys (ID2113); a client registered with a
    /// <c>jwks_uri</c> has its keys there instead.
    /// </summary>
    public override async IAsyncEnumerable<System.ComponentModel.DataAnnotations.ValidationResult> ValidateAsync(
        OpenIddictEntityFrameworkCoreApplication application, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var remote = (await GetPropertiesAsync(application, cancellationToken)).ContainsKey(RemoteKeySets.Property);
        var noSecret = OpenIddict.Abstractions.OpenIddictResources.GetResourceString(OpenIddictErrorIds.ConfidentialClientWithoutCredentials);
        await foreach (var result in base.ValidateAsync(application, cancellationToken))
        {
            if (!(remote && result.ErrorMessage == noSecret))
            {
                yield return result;
            }
        }
    }

    /// <summary>A client registered with a <c>jwks_uri</c> has the keys found there (<see cref="RemoteKeySets"/>), not stored ones.</summary>
    public override async ValueTask<Microsoft.IdentityModel.Tokens.JsonWebKeySet?> GetJsonWebKeySetAsync(
        OpenIddictEntityFrameworkCoreApplication application, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(application);
        if (RemoteKeySets.UriOf(await GetPropertiesAsync(application, cancellationToken)) is { } uri)
        {
            // Fetched by ClientAssertions just before; OpenIddict waits for this synchronously, so it only reads the cache.
            return remoteKeySets.Peek(application.ClientId!, uri);
        }
        return await base.GetJsonWebKeySetAsync(application, cancellationToken);
    }

    // Misses (unknown client ids, which anyone can send) are never cached; neither are absurdly long keys.
    public override ValueTask<OpenIddictEntityFrameworkCoreApplication?> FindByClientIdAsync(string identifier, CancellationToken cancellationToken = default) =>
        identifier.Length <= 200
            ? lookups.GetOrAddAsync("client_id:" + identifier, () => base.FindByClientIdAsync(identifier, cancellationToken), static _ => true)
            : base.FindByClientIdAsync(identifier, cancellationToken);

    public override ValueTask<OpenIddictEntityFrameworkCoreApplication?> FindByIdAsync(string identifier, CancellationToken cancellationToken = default) =>
        identifier.Length <= 200
            ? lookups.GetOrAddAsync("id:" + identifier, () => base.FindByIdAsync(identifier, cancellationToken), static _ => true)
            : base.FindByIdAsync(identifier, cancellationToken);

    public override async ValueTask CreateAsync(OpenIddictEntityFrameworkCoreApplication application, string? secret, CancellationToken cancellationToken = default)
    {
        await base.CreateAsync(application, secret, cancellationToken);
        await changes.PublishAsync(cancellationToken);
    }

    public override async ValueTask UpdateAsync(OpenIddictEntityFrameworkCoreApplication application, CancellationToken cancellationToken = default)
    {
        await base.UpdateAsync(application, cancellationToken);
        await changes.PublishAsync(cancellationToken);
    }

    public override async ValueTask UpdateAsync(OpenIddictEntityFrameworkCoreApplication application, string? secret, CancellationToken cancellationToken = default)
    {
        await base.UpdateAsync(application, secret, cancellationToken);
        await changes.PublishAsync(cancellationToken);
    }

    public override async ValueTask DeleteAsync(OpenIddictEntityFrameworkCoreApplication application, CancellationToken cancellationToken = default)
    {
        await base.DeleteAsync(application, cancellationToken);
        await changes.PublishAsync(cancellationToken);
    }

    /// <summary>
    /// A client whose secrets are managed at run time (<see cref="ClientSecrets"/>) is checked against
    /// each of its active secrets; an expired one is refused even if a success with it is remembered.
    /// Any other client is checked by OpenIddict against its single secret.
    /// </summary>
    public override async ValueTask<bool> ValidateClientSecretAsync(OpenIddictEntityFrameworkCoreApplication application, string secret, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(application);
        if (ClientSecrets.Read(await GetPropertiesAsync(application, cancellationToken)) is not { } managed
            || await HasClientTypeAsync(application, OpenIddictConstants.ClientTypes.Public, cancellationToken))
        {
            return await base.ValidateClientSecretAsync(application, secret, cancellationToken);
        }
        var now = clock.GetUtcNow();
        foreach (var entry in managed.Where(e => e.IsActive(now)))
        {
            if (await ValidateClientSecretAsync(secret, entry.Hash, cancellationToken))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>OpenIddict's hash of a new secret, as it stores one (for <see cref="SetClientSecretsAsync"/>).</summary>
    public ValueTask<string> HashClientSecretAsync(string secret, CancellationToken cancellationToken = default) =>
        ObfuscateClientSecretAsync(secret, cancellationToken);

    /// <summary>
    /// Replaces the client's secrets with <paramref name="secrets"/> (hashes) and publishes the change.
    /// OpenIddict's own secret column keeps the newest active hash, so it never holds a retired secret
    /// (an imported client whose secrets have all expired keeps the last to expire; none is accepted).
    /// </summary>
    public async ValueTask SetClientSecretsAsync(OpenIddictEntityFrameworkCoreApplication application, IReadOnlyList<ClientSecret> secrets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(application);
        ArgumentNullException.ThrowIfNull(secrets);
        var now = clock.GetUtcNow();
        var newest = secrets.Where(s => s.IsActive(now)).OrderByDescending(static s => s.Created).FirstOrDefault()
            ?? secrets.OrderByDescending(static s => s.ExpiresAt).FirstOrDefault()
            ?? throw new ArgumentException("A confidential client needs a secret.", nameof(secrets));
        var properties = await GetPropertiesAsync(application, cancellationToken);
        await Store.SetPropertiesAsync(application, properties.SetItem(ClientSecrets.Property, ClientSecrets.ToProperty(secrets)), cancellationToken);
        await Store.SetClientSecretAsync(application, newest.Hash, cancellationToken);
        await UpdateAsync(application, cancellationToken);
    }

    protected override async ValueTask<bool> ValidateClientSecretAsync(string secret, string comparand, CancellationToken cancellationToken = default)
    {
        if (secrets.IsKnownGood(secret, comparand))
        {
            return true;
        }
        var valid = await base.ValidateClientSecretAsync(secret, comparand, cancellationToken);
        if (valid)
        {
            secrets.Remember(secret, comparand);
        }
        return valid;
    }
}

/// <summary>OpenIddict's scope manager with scope and resource lookups served from <see cref="LookupCache{TEntity}"/>.</summary>
internal sealed class CachingScopeManager(
    IOpenIddictScopeCache<OpenIddictEntityFrameworkCoreScope> cache,
    ILogger<OpenIddictScopeManager<OpenIddictEntityFrameworkCoreScope>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictScopeStore<OpenIddictEntityFrameworkCoreScope> store,
    LookupCache<OpenIddictEntityFrameworkCoreScope> lookups,
    ClientAndScopeChanges changes)
    : OpenIddictScopeManager<OpenIddictEntityFrameworkCoreScope>(cache, logger, options, store)
{
    public override ValueTask<OpenIddictEntityFrameworkCoreScope?> FindByNameAsync(string name, CancellationToken cancellationToken = default) =>
        name.Length <= 200
            ? lookups.GetOrAddAsync("name:" + name, () => base.FindByNameAsync(name, cancellationToken), static _ => true)
            : base.FindByNameAsync(name, cancellationToken);

    // Only results for names that all exist are cached: a request for made-up scopes (anyone can send
    // one) costs a query but never occupies the cache.
    public override IAsyncEnumerable<OpenIddictEntityFrameworkCoreScope> FindByNamesAsync(ImmutableArray<string> names, CancellationToken cancellationToken = default) =>
        Cacheable(names)
            ? Replay(lookups.GetOrAddAsync("names:" + Key(names), () => Load(base.FindByNamesAsync(names, cancellationToken), cancellationToken), found => found.Count == names.Distinct(StringComparer.Ordinal).Count()), cancellationToken)
            : base.FindByNamesAsync(names, cancellationToken);

    public override IAsyncEnumerable<string> ListResourcesAsync(ImmutableArray<string> scopes, CancellationToken cancellationToken = default) =>
        Cacheable(scopes)
            ? Replay(lookups.GetOrAddAsync("resources:" + Key(scopes), () => Load(base.ListResourcesAsync(scopes, cancellationToken), cancellationToken), static _ => true), cancellationToken)
            : base.ListResourcesAsync(scopes, cancellationToken);

    public override async ValueTask CreateAsync(OpenIddictEntityFrameworkCoreScope scope, CancellationToken cancellationToken = default)
    {
        await base.CreateAsync(scope, cancellationToken);
        await changes.PublishAsync(cancellationToken);
    }

    public override async ValueTask UpdateAsync(OpenIddictEntityFrameworkCoreScope scope, CancellationToken cancellationToken = default)
    {
        await base.UpdateAsync(scope, cancellationToken);
        await changes.PublishAsync(cancellationToken);
    }

    public override async ValueTask DeleteAsync(OpenIddictEntityFrameworkCoreScope scope, CancellationToken cancellationToken = default)
    {
        await base.DeleteAsync(scope, cancellationToken);
        await changes.PublishAsync(cancellationToken);
    }

    private static bool Cacheable(ImmutableArray<string> names) => names.Length <= 32 && names.Sum(static n => n.Length) <= 1024;

    private static string Key(ImmutableArray<string> names) => string.Join(' ', names.Order(StringComparer.Ordinal));

    private static async ValueTask<List<T>> Load<T>(IAsyncEnumerable<T> source, CancellationToken cancellationToken) =>
        await source.ToListAsync(cancellationToken);

    private static async IAsyncEnumerable<T> Replay<T>(ValueTask<List<T>> source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var item in await source)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return item;
        }
    }
}
