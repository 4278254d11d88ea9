using System.Text.Json;
using System.Text.Json.Serialization;
using IdentityServer.Audit;
using IdentityServer.Authorization;
using IdentityServer.Data;
using IdentityServer.Seeding;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Admin;

/// <summary>
/// The server's configuration as a seed file (<c>GET /api/admin/export</c>) that a fresh server accepts
/// as its <c>Seed:Path</c>: every scope an administrator or a seed defined, every client with its
/// settings, enabled state and secrets as OpenIddict's hashes (never a secret), and, when asked for, the
/// accounts: user name, address, roles and profile claims, without passwords, second factors or
/// passkeys (each person sets a password again through "Forgot password").
/// </summary>
internal sealed class ConfigurationExport(
    IOpenIddictApplicationManager applications,
    IOpenIddictScopeManager scopes,
    ApplicationDbContext database,
    AuditLog audit)
{
    /// <summary>The seed file's own shape: its property names, indented, without empty values.</summary>
    public static JsonSerializerOptions Json { get; } = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public async Task<SeedDocument> ExportAsync(bool includeUsers, string actor, CancellationToken cancellationToken)
    {
        using var _ = LookupCache.Bypass();
        var document = new SeedDocument();
        await foreach (var scope in scopes.ListAsync(count: null, offset: null, cancellationToken))
        {
            var descriptor = new OpenIddictScopeDescriptor();
            await scopes.PopulateAsync(descriptor, scope, cancellationToken);
            if (!Seeder.BuiltInScopes.Any(s => s.Name == descriptor.Name))
            {
                document.Scopes.Add(Seeder.FromDescriptor(descriptor));
            }
        }
        await foreach (var application in applications.ListAsync(count: null, offset: null, cancellationToken))
        {
            var descriptor = new OpenIddictApplicationDescriptor();
            await applications.PopulateAsync(descriptor, application, cancellationToken);
            var client = Seeder.FromDescriptor(descriptor);
            // Written only when false: a seed that says "Enabled: true" would enable, at every start, a
            // client an administrator disabled after the export.
            client.Enabled = client.Enabled == false ? false : null;
            if (descriptor.ClientType == ClientTypes.Confidential)
            {
                var secrets = ClientSecrets.Read(descriptor.Properties)
                    ?? [new ClientSecret(ClientSecrets.InitialSecretId, descriptor.ClientSecret ?? "", null, null)];
                client.ClientSecrets = [.. secrets.Select(static s => new SeedClientSecret { Id = s.Id, Hash = s.Hash, Created = s.Created, ExpiresAt = s.ExpiresAt })];
            }
            document.Clients.Add(client);
        }
        document.Scopes.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        document.Clients.Sort(static (a, b) => string.CompareOrdinal(a.ClientId, b.ClientId));
        if (includeUsers)
        {
            document.Users = await UsersAsync(cancellationToken);
        }
        await audit.RecordAsync(SecurityEventTypes.ConfigurationExported, actor: actor,
            detail: $"{document.Scopes.Count} scopes, {document.Clients.Count} clients" + (includeUsers ? $", {document.Users.Count} users" : ""),
            cancellationToken: cancellationToken);
        return document;
    }

    private async Task<List<SeedUser>> UsersAsync(CancellationToken cancellationToken)
    {
        var accounts = await database.Users.AsNoTracking().OrderBy(static u => u.UserName)
            .Select(static u => new { u.Id, u.UserName, u.Email }).ToListAsync(cancellationToken);
        var roles = (await database.UserRoles.AsNoTracking()
                .Join(database.Roles, static ur => ur.RoleId, static r => r.Id, static (ur, r) => new { ur.UserId, r.Name })
                .ToListAsync(cancellationToken))
            .ToLookup(static r => r.UserId, static r => r.Name!);
        var editable = UserManagement.EditableClaimTypes.ToList();
        var claims = (await database.UserClaims.AsNoTracking().Where(c => editable.Contains(c.ClaimType!))
                .Select(static c => new { c.UserId, c.ClaimType, c.ClaimValue }).ToListAsync(cancellationToken))
            .ToLookup(static c => c.UserId);
        return [.. accounts.Select(a => new SeedUser
        {
            UserName = a.UserName,
            Email = a.Email,
            Roles = [.. roles[a.Id].Order(StringComparer.Ordinal)],
            Claims = claims[a.Id].GroupBy(static c => c.ClaimType!).ToDictionary(static g => g.Key, static g => g.First().ClaimValue ?? "", StringComparer.Ordinal),
        })];
    }
}
