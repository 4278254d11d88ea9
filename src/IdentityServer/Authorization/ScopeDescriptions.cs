using IdentityServer.Localization;
using OpenIddict.Abstractions;

namespace IdentityServer.Authorization;

/// <summary>
/// What a scope lets an app do, in words a user reads on a consent screen: the standard scopes in the
/// reader's language, the others as registered (OpenIddict's display name for the reader's culture, if any).
/// </summary>
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
                OpenIddictConstants.Scopes.OpenId => Texts.Get("Sign you in"),
                OpenIddictConstants.Scopes.Profile => Texts.Get("See your name and username"),
                OpenIddictConstants.Scopes.Email => Texts.Get("See your email address"),
                OpenIddictConstants.Scopes.OfflineAccess => Texts.Get("Stay signed in when you are not using it"),
                _ => await scopeManager.FindByNameAsync(scope, cancellationToken) is { } entity
                    ? await scopeManager.GetLocalizedDisplayNameAsync(entity, cancellationToken) ?? scope
                    : scope,
            };
            described.Add((scope, description));
        }
        return described;
    }
}
