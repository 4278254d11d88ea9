using OpenIddict.Abstractions;

namespace IdentityServer.Authorization;

/// <summary>What a scope lets an app do, in words a user reads on a consent screen.</summary>
internal static class ScopeDescriptions
{
    public static async Task<IReadOnlyList<(string Name, string Description)>> DescribeAsync(
        IOpenIddictScopeManager scopeManager, IEnumerable<string> scopes, CancellationToken cancellationToken)
    {
        var described = new List<(string, string)>();
        foreach (var scope in scopes)
        {
            var description = scope switch
            {
                OpenIddictConstants.Scopes.OpenId => "Sign you in",
                OpenIddictConstants.Scopes.Profile => "See your name and username",
                OpenIddictConstants.Scopes.Email => "See your email address",
                OpenIddictConstants.Scopes.OfflineAccess => "Stay signed in when you are not using it",
                _ => await scopeManager.FindByNameAsync(scope, cancellationToken) is { } entity
                    ? await scopeManager.GetLocalizedDisplayNameAsync(entity, cancellationToken) ?? scope
                    : scope,
            };
            described.Add((scope, description));
        }
        return described;
    }
}
