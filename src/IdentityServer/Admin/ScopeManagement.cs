using IdentityServer.Audit;
using IdentityServer.Authorization;
using IdentityServer.Seeding;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Admin;

/// <summary>
/// Scopes defined, changed and deleted at run time through the admin API, with no restart, checked by
/// the seed file's own validator. The standard scopes and the built-in <c>idp.admin</c> are the
/// server's and cannot be changed here. A scope a client may still ask for cannot be deleted: the
/// answer names the clients to change first. Every change is a security event with a field diff.
/// </summary>
internal sealed class ScopeManagement(
    IOpenIddictScopeManager scopes,
    IOpenIddictApplicationManager applications,
    AuditLog audit)
{
    private const string Source = "admin API";

    public async Task<IReadOnlyList<SeedScope>> ListAsync(CancellationToken cancellationToken)
    {
        using var _ = LookupCache.Bypass();
        var list = new List<SeedScope>();
        await foreach (var scope in scopes.ListAsync(count: null, offset: null, cancellationToken))
        {
            list.Add(await DescribeAsync(scope, cancellationToken));
        }
        return [.. list.OrderBy(static s => s.Name, StringComparer.Ordinal)];
    }

    /// <summary>Every scope a client may be given: the standard ones, then the defined ones.</summary>
    public async Task<IReadOnlyList<string>> NamesAsync(CancellationToken cancellationToken) =>
        [.. AuthorizationSetup.StandardScopes, .. (await ListAsync(cancellationToken)).Select(static s => s.Name!)];

    public async Task<SeedScope?> GetAsync(string name, CancellationToken cancellationToken)
    {
        using var _ = LookupCache.Bypass();
        return await scopes.FindByNameAsync(name, cancellationToken) is { } scope ? await DescribeAsync(scope, cancellationToken) : null;
    }

    public async Task<ScopeResult> CreateAsync(SeedScope? request, string actor, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return Invalid("scope", "A scope is required.");
        }
        var scope = Copy(request, request.Name?.Trim());
        if (Validate(scope) is { } errors)
        {
            return new ScopeResult(ManagementOutcome.Invalid, Errors: errors);
        }
        using var _ = LookupCache.Bypass();
        if (await scopes.FindByNameAsync(scope.Name!, cancellationToken) is not null)
        {
            return new ScopeResult(ManagementOutcome.Conflict, Problem: $"A scope '{scope.Name}' exists already.");
        }
        await scopes.CreateAsync(Seeder.ToDescriptor(scope), cancellationToken);
        await audit.RecordAsync(SecurityEventTypes.ScopeCreated, actor: actor, detail: scope.Name, cancellationToken: cancellationToken);
        return new ScopeResult(ManagementOutcome.Done, scope);
    }

    /// <summary>Replaces a scope's settings (its name stays); new tokens follow at once, issued ones keep what they carry.</summary>
    public async Task<ScopeResult> UpdateAsync(string name, SeedScope? request, string actor, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return Invalid("scope", "A scope is required.");
        }
        if (request.Name is not null && !string.Equals(request.Name.Trim(), name, StringComparison.Ordinal))
        {
            return Invalid("name", "A scope's name cannot change: define a new scope instead.");
        }
        if (IsServers(name))
        {
            return new ScopeResult(ManagementOutcome.Conflict, Problem: $"'{name}' is the server's own scope and cannot be changed.");
        }
        var scope = Copy(request, name);
        if (Validate(scope) is { } errors)
        {
            return new ScopeResult(ManagementOutcome.Invalid, Errors: errors);
        }
        using var _ = LookupCache.Bypass();
        if (await scopes.FindByNameAsync(name, cancellationToken) is not { } existing)
        {
            return new ScopeResult(ManagementOutcome.NotFound);
        }
        var current = new OpenIddictScopeDescriptor();
        await scopes.PopulateAsync(current, existing, cancellationToken);
        var before = Seeder.FromDescriptor(current);
        var wanted = Seeder.ToDescriptor(scope);
        // Properties the scope's settings do not own (set by other tools) are kept.
        foreach (var (property, value) in current.Properties.Where(static p => p.Key != AccessTokenClaims.Property))
        {
            wanted.Properties[property] = value;
        }
        await scopes.UpdateAsync(existing, wanted, cancellationToken);
        var after = Seeder.FromDescriptor(wanted);
        await audit.RecordAsync(SecurityEventTypes.ScopeUpdated, actor: actor, detail: $"{name}: {SettingChanges.Describe(before, after)}", cancellationToken: cancellationToken);
        return new ScopeResult(ManagementOutcome.Done, after);
    }

    public async Task<ScopeResult> DeleteAsync(string name, string actor, CancellationToken cancellationToken)
    {
        if (IsServers(name))
        {
            return new ScopeResult(ManagementOutcome.Conflict, Problem: $"'{name}' is the server's own scope and cannot be deleted.");
        }
        using var _ = LookupCache.Bypass();
        if (await scopes.FindByNameAsync(name, cancellationToken) is not { } existing)
        {
            return new ScopeResult(ManagementOutcome.NotFound);
        }
        var users = new List<string>();
        await foreach (var application in applications.ListAsync(count: null, offset: null, cancellationToken))
        {
            if (await applications.HasPermissionAsync(application, Permissions.Prefixes.Scope + name, cancellationToken))
            {
                users.Add((await applications.GetClientIdAsync(application, cancellationToken))!);
            }
        }
        if (users.Count > 0)
        {
            return new ScopeResult(ManagementOutcome.Conflict,
                Problem: $"Clients may still ask for '{name}': {string.Join(", ", users.Order(StringComparer.Ordinal))}. Take it out of their scopes first.");
        }
        await scopes.DeleteAsync(existing, cancellationToken);
        await audit.RecordAsync(SecurityEventTypes.ScopeDeleted, actor: actor, detail: name, cancellationToken: cancellationToken);
        return new ScopeResult(ManagementOutcome.Done);
    }

    private async Task<SeedScope> DescribeAsync(object scope, CancellationToken cancellationToken)
    {
        var descriptor = new OpenIddictScopeDescriptor();
        await scopes.PopulateAsync(descriptor, scope, cancellationToken);
        return Seeder.FromDescriptor(descriptor);
    }

    private static bool IsServers(string name) =>
        AuthorizationSetup.StandardScopes.Contains(name, StringComparer.Ordinal) || Seeder.BuiltInScopes.Any(s => s.Name == name);

    /// <summary>The seed file's checks (which also refuse a standard or built-in name); null when the scope passes.</summary>
    private static Dictionary<string, string[]>? Validate(SeedScope scope)
    {
        try
        {
            SeedLoader.Validate(new SeedDocument { Scopes = [scope] }, Source);
            return null;
        }
        catch (SeedException problem)
        {
            return new Dictionary<string, string[]> { ["scope"] = ClientManagement.ProblemLines(problem) };
        }
    }

    private static SeedScope Copy(SeedScope request, string? name) => new()
    {
        Name = name,
        DisplayName = request.DisplayName,
        DisplayNames = request.DisplayNames ?? [],
        Description = request.Description,
        Resources = request.Resources ?? [],
        AccessTokenClaims = request.AccessTokenClaims ?? [],
    };

    private static ScopeResult Invalid(string field, string message) =>
        new(ManagementOutcome.Invalid, Errors: new Dictionary<string, string[]> { [field] = [message] });
}

/// <summary>What a change to a scope came to: the scope as it is now, or what was wrong.</summary>
internal sealed record ScopeResult(ManagementOutcome Outcome, SeedScope? Scope = null,
    IDictionary<string, string[]>? Errors = null, string? Problem = null);
