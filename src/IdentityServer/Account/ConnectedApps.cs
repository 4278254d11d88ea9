using System.Text.Json;
using IdentityServer.Audit;
using IdentityServer.Authorization;
using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Account;

/// <summary>One app a user allowed: what it may do, since when, and when it last got a token.</summary>
public sealed record ConnectedApp(
    string ClientId, string Name, IReadOnlyList<(string Name, string Description)> Scopes, DateTimeOffset? AllowedAt, DateTimeOffset? LastUsedAt);

/// <summary>
/// The apps a user allowed and that do not ask again (remembered consent: OpenIddict's permanent
/// authorizations), and taking that access back: the remembered consent and every grant the app
/// holds for the user (authorizations and their tokens) are revoked in one transaction, so the app's
/// refresh tokens stop at once on every node and it asks again next time.
/// </summary>
public sealed class ConnectedApps(
    ApplicationDbContext database,
    IOpenIddictApplicationManager applications,
    IOpenIddictScopeManager scopes,
    AuditLog audit)
{
    public async Task<IReadOnlyList<ConnectedApp>> ListAsync(string userId, CancellationToken cancellationToken)
    {
        var consents = await database.Set<OpenIddictEntityFrameworkCoreAuthorization>().AsNoTracking()
            .Where(a => a.Subject == userId && a.Type == AuthorizationTypes.Permanent && a.Status == Statuses.Valid && a.Application != null)
            .Select(a => new { ApplicationId = a.Application!.Id!, a.Scopes, a.CreationDate })
            .ToListAsync(cancellationToken);
        var applicationIds = consents.Select(static c => c.ApplicationId).Distinct().ToList();
        var lastUse = await database.Set<OpenIddictEntityFrameworkCoreToken>().AsNoTracking()
            .Where(t => t.Subject == userId && t.Application != null && applicationIds.Contains(t.Application.Id!))
            .GroupBy(t => t.Application!.Id!)
            .Select(g => new { ApplicationId = g.Key, Last = g.Max(t => t.CreationDate) })
            .ToDictionaryAsync(static x => x.ApplicationId, static x => x.Last, cancellationToken);

        var apps = new List<ConnectedApp>();
        foreach (var group in consents.GroupBy(static c => c.ApplicationId))
        {
            if (await applications.FindByIdAsync(group.Key, cancellationToken) is not { } application
                || await applications.GetClientIdAsync(application, cancellationToken) is not { } clientId)
            {
                continue;
            }
            var granted = group.SelectMany(static c => JsonSerializer.Deserialize<string[]>(c.Scopes ?? "[]") ?? []).Distinct(StringComparer.Ordinal);
            apps.Add(new ConnectedApp(
                clientId,
                await applications.GetLocalizedDisplayNameAsync(application, cancellationToken) ?? clientId,
                await ScopeDescriptions.DescribeAsync(scopes, granted, cancellationToken),
                Utc(group.Min(static c => c.CreationDate)),
                Utc(lastUse.GetValueOrDefault(group.Key))));
        }
        return [.. apps.OrderBy(static a => a.Name, StringComparer.CurrentCultureIgnoreCase)];
    }

    /// <summary>Revokes the user's remembered consent to <paramref name="clientId"/> and every grant and token the app holds for them; false when there was none.</summary>
    public async Task<bool> RemoveAsync(string userId, string? userName, string? sessionId, string clientId, CancellationToken cancellationToken)
    {
        if (await applications.FindByClientIdAsync(clientId, cancellationToken) is not { } application
            || await applications.GetIdAsync(application, cancellationToken) is not { } applicationId)
        {
            return false;
        }
        return await database.WriteInTransactionAsync(async token =>
        {
            var authorizations = database.Set<OpenIddictEntityFrameworkCoreAuthorization>()
                .Where(a => a.Subject == userId && a.Application != null && a.Application.Id == applicationId && a.Status == Statuses.Valid);
            if (!await authorizations.AnyAsync(a => a.Type == AuthorizationTypes.Permanent, token))
            {
                return false;
            }
            // A new concurrency token makes a refresh that read its token before this update lose
            // its redemption instead of issuing new tokens (as when a session ends).
            var stamp = Guid.NewGuid().ToString();
            await database.Set<OpenIddictEntityFrameworkCoreToken>()
                .Where(t => t.Subject == userId && t.Application != null && t.Application.Id == applicationId
                    && (t.Status == Statuses.Valid || t.Status == Statuses.Inactive))
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.Status, Statuses.Revoked).SetProperty(t => t.ConcurrencyToken, stamp), token);
            await authorizations
                .ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, Statuses.Revoked).SetProperty(a => a.ConcurrencyToken, stamp), token);
            audit.Add(SecurityEventTypes.AccessRemoved, userId, userName, sessionId, clientId, actor: userId);
            await database.SaveChangesAsync(token);
            return true;
        }, cancellationToken);
    }

    private static DateTimeOffset? Utc(DateTime? value) =>
        value is { } time ? new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)) : null;
}
