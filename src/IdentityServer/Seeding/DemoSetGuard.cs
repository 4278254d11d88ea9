using IdentityServer.Authorization;
using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;

namespace IdentityServer.Seeding;

/// <summary>
/// Outside Development, refuses to serve a database that still holds the Development demo set with
/// its published credentials: a client secret or the admin's password that anyone can read in the
/// README. That happens when a database made by <c>dotnet run</c> (Development) is later started in
/// Production. An entry whose secret was changed no longer counts.
/// </summary>
internal sealed class DemoSetGuard(IOpenIddictApplicationManager applications, UserManager<ApplicationUser> users)
{
    public async Task ThrowIfPresentAsync(CancellationToken cancellationToken)
    {
        // Entities are read once, at start-up, and must be the stored ones, not cached copies.
        using var _ = LookupCache.Bypass();
        var found = new List<string>();
        foreach (var (clientId, secret) in DevelopmentSeed.Document.Clients.Select(static c => (c.ClientId, c.ClientSecret)))
        {
            if (clientId is not null && secret is not null
                && await applications.FindByClientIdAsync(clientId, cancellationToken) is { } application
                && await applications.ValidateClientSecretAsync(application, secret, cancellationToken))
            {
                found.Add($"client '{clientId}' with its demo secret");
            }
        }
        foreach (var (userName, password) in DevelopmentSeed.Document.Users.Select(static u => (u.UserName, u.Password)))
        {
            // The hash is checked directly: a sign-in check would count a failure towards lockout.
            if (userName is not null && password is not null
                && await users.FindByNameAsync(userName) is { PasswordHash: { } hash } user
                && users.PasswordHasher.VerifyHashedPassword(user, hash, password) != PasswordVerificationResult.Failed)
            {
                found.Add($"user '{userName}' with the demo password");
            }
        }
        if (found.Count > 0)
        {
            throw new InvalidOperationException(
                $"This database holds the Development demo set ({string.Join(", ", found)}), whose credentials are published in the README. " +
                "Outside Development the server does not start on it. Point ConnectionStrings:Default at a new database for this environment, " +
                "or start once in Development and change or delete those entries (a seed file can replace the secrets). See docs/deployment.md.");
        }
    }
}
