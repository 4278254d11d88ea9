using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using OpenIddict.EntityFrameworkCore.Models;

namespace Floor;

/// <summary>
/// Stock OpenIddict application manager with the product's two shortcuts on the hot path (Stock mode):
/// a client found by client_id is kept, and a secret that matched its PBKDF2 hash is remembered, so a
/// busy client pays the key derivation once instead of on every token or introspection request.
/// Failed checks are never remembered: a wrong secret always costs the full PBKDF2.
/// </summary>
internal sealed class CachingApplicationManager(
    IOpenIddictApplicationCache<OpenIddictEntityFrameworkCoreApplication> cache,
    ILogger<OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictApplicationStore<OpenIddictEntityFrameworkCoreApplication> store,
    ClientCaches caches,
    ILogger<CachingApplicationManager> floorLogger)
    : OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>(cache, logger, options, store)
{
    public override async ValueTask<OpenIddictEntityFrameworkCoreApplication?> FindByClientIdAsync(
        string identifier, CancellationToken cancellationToken = default)
    {
        if (caches.Clients.TryGetValue(identifier, out var cached))
        {
            return cached;
        }

        var application = await base.FindByClientIdAsync(identifier, cancellationToken);
        if (application is not null && caches.Clients.TryAdd(identifier, application))
        {
            floorLogger.LogInformation("Client {ClientId} read from the database and cached", identifier);
        }
        return application;
    }

    protected override async ValueTask<bool> ValidateClientSecretAsync(
        string secret, string comparand, CancellationToken cancellationToken = default)
    {
        if (caches.IsKnownGood(secret, comparand))
        {
            return true;
        }

        var valid = await base.ValidateClientSecretAsync(secret, comparand, cancellationToken);
        if (valid && caches.RememberGood(secret, comparand))
        {
            floorLogger.LogInformation("Client secret checked with PBKDF2 and cached ({Count} cached)", caches.GoodSecretCount);
        }
        return valid;
    }
}
