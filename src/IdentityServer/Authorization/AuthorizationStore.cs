using IdentityServer.Data;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityServer.Authorization;

/// <summary>OpenIddict's Entity Framework Core authorization store, with the grant-by-id lookup of every token request compiled.</summary>
internal sealed class AuthorizationStore(
    IMemoryCache cache,
    IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options)
    : OpenIddictEntityFrameworkCoreAuthorizationStore(cache, context, options)
{
    /// <summary>As the stock store (a tracked instance first, else the row with its client), with a compiled query.</summary>
    public override async ValueTask<OpenIddictEntityFrameworkCoreAuthorization?> FindByIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        return await CompiledQueries.FindTrackedOrQueryAsync(
            await Context.GetDbContextAsync(cancellationToken), identifier, static authorization => authorization.Id, CompiledQueries.AuthorizationById, cancellationToken);
    }
}
