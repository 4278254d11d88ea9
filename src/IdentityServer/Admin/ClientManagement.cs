using System.Security.Cryptography;
using System.Text.Json;
using IdentityServer.Audit;
using IdentityServer.Authorization;
using IdentityServer.BackchannelLogout;
using IdentityServer.Seeding;
using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Admin;

/// <summary>
/// Clients registered, read, changed and deleted at run time through the admin API, with no restart. A new
/// client is checked by the seed file's own validator (<see cref="SeedLoader.Validate"/>), so the
/// rules are one; its secret is generated here (256 random bits), answered once and stored as
/// OpenIddict's hash. Deleting a client revokes its grants and tokens and removes it. Every change
/// is a security event with the administrator as actor.
/// </summary>
internal sealed class ClientManagement(
    IOpenIddictApplicationManager applications,
    IOpenIddictScopeManager scopes,
    IOpenIddictAuthorizationManager authorizations,
    IOpenIddictTokenManager tokens,
    BackchannelLogoutTargets backchannelTargets,
    ClientAndScopeChanges changes,
    AuditLog audit,
    TimeProvider clock)
{
    private const string Source = "admin API";

    public async Task<IReadOnlyList<SeedClient>> ListAsync(CancellationToken cancellationToken)
    {
        using var _ = LookupCache.Bypass();
        var clients = new List<SeedClient>();
        await foreach (var application in applications.ListAsync(count: null, offset: null, cancellationToken))
        {
            clients.Add(await DescribeAsync(application, cancellationToken));
        }
        return [.. clients.OrderBy(static c => c.ClientId, StringComparer.Ordinal)];
    }

    public async Task<SeedClient?> GetAsync(string clientId, CancellationToken cancellationToken)
    {
        using var _ = LookupCache.Bypass();
        return await applications.FindByClientIdAsync(clientId, cancellationToken) is { } application
            ? await DescribeAsync(application, cancellationToken)
            : null;
    }

    public async Task<ClientResult> CreateAsync(SeedClient? request, string actor, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return Invalid("client", "A client is required.");
        }
        if (request.ClientSecret is not null || request.ClientSecrets is not null)
        {
            return Invalid("clientSecret", "The server generates client secrets: leave clientSecret out, and read the secret from the answer.");
        }
        using var _ = LookupCache.Bypass();
        var confidential = (request.ClientType ?? ClientTypes.Confidential) == ClientTypes.Confidential;
        // A client registered with its public keys authenticates with signed assertions: no secret is made for it.
        var secret = confidential && request.JsonWebKeySet is null && request.JsonWebKeySetUri is null ? WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32)) : null;
        var client = Copy(request, secret);
        if (await ValidateAsync(client, cancellationToken) is { } errors)
        {
            return new ClientResult(ManagementOutcome.Invalid, Errors: errors);
        }
        if (await applications.FindByClientIdAsync(client.ClientId!, cancellationToken) is not null)
        {
            return new ClientResult(ManagementOutcome.Conflict, Problem: $"A client '{client.ClientId}' exists already.");
        }

        var application = await applications.CreateAsync(Seeder.ToDescriptor(client), cancellationToken);
        if (secret is not null)
        {
            // Listed from the start, so that it has an id and a date when it is rotated.
            var hash = await Manager.HashClientSecretAsync(secret, cancellationToken);
            await Manager.SetClientSecretsAsync((OpenIddictEntityFrameworkCoreApplication)application, [new(NewSecretId(), hash, clock.GetUtcNow(), null)], cancellationToken);
        }
        await audit.RecordAsync(SecurityEventTypes.ClientCreated, clientId: client.ClientId, actor: actor, detail: client.ClientId, cancellationToken: cancellationToken);
        client.ClientSecret = null;
        return new ClientResult(ManagementOutcome.Done, new ManagedClient(client, secret));
    }

    /// <summary>
    /// Replaces a client's settings with <paramref name="request"/> (the same fields as a registration;
    /// its secret stays). The type cannot change: a confidential client has a secret a public one must
    /// not have. The event's detail lists what changed, old and new.
    /// </summary>
    public async Task<ClientResult> UpdateAsync(string clientId, SeedClient? request, string actor, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return Invalid("client", "A client is required.");
        }
        if (request.ClientSecret is not null || request.ClientSecrets is not null)
        {
            return Invalid("clientSecret", "A client's secret is not changed here: it is generated by the server (POST .../secrets).");
        }
        if (request.ClientId is not null && !string.Equals(request.ClientId.Trim(), clientId, StringComparison.Ordinal))
        {
            return Invalid("clientId", "The client id cannot change: register a new client instead.");
        }
        using var _ = LookupCache.Bypass();
        if (await applications.FindByClientIdAsync(clientId, cancellationToken) is not { } application)
        {
            return new ClientResult(ManagementOutcome.NotFound);
        }
        var current = new OpenIddictApplicationDescriptor();
        await applications.PopulateAsync(current, application, cancellationToken);
        var before = Seeder.FromDescriptor(current);
        var type = request.ClientType ?? ClientTypes.Confidential;
        if (type != before.ClientType)
        {
            return new ClientResult(ManagementOutcome.Conflict, Problem: $"The client is {before.ClientType}; its type cannot change. Register a new client instead.");
        }
        if (type == ClientTypes.Confidential && string.IsNullOrEmpty(current.ClientSecret) && request.JsonWebKeySet is null && request.JsonWebKeySetUri is null)
        {
            return Invalid("jsonWebKeySet", "The client has no secret and authenticates with its keys only: keep a jsonWebKeySet or a jsonWebKeySetUri.");
        }
        // The validator wants a confidential client's secret: a stand-in, never stored.
        var client = Copy(request, type == ClientTypes.Confidential ? "unchanged" : null);
        client.ClientId = clientId;
        if (await ValidateAsync(client, cancellationToken) is { } errors)
        {
            return new ClientResult(ManagementOutcome.Invalid, Errors: errors);
        }

        client.ClientSecret = null;
        var wanted = Seeder.ToDescriptor(client);
        wanted.ClientSecret = current.ClientSecret;
        // Properties the client settings do not own (set by other features, the secrets) are kept, and
        // the enabled state unless the request names it.
        foreach (var (name, value) in current.Properties.Where(p => !wanted.Properties.ContainsKey(p.Key) && !Seeder.IsSeededProperty(p.Key)
            && !(p.Key == DisabledClients.Property && request.Enabled is not null)))
        {
            wanted.Properties[name] = value;
        }
        await applications.PopulateAsync(application, wanted, cancellationToken);
        await applications.UpdateAsync(application, cancellationToken);
        if (before.Enabled == true && request.Enabled == false)
        {
            await RevokeGrantsAsync(application, cancellationToken);
        }
        // Both sides read back from descriptors, so defaults (consent type, display name) compare equal.
        var after = Seeder.FromDescriptor(wanted);
        await audit.RecordAsync(SecurityEventTypes.ClientUpdated, clientId: clientId, actor: actor, detail: SettingChanges.Describe(before, after),
            cancellationToken: cancellationToken);
        return new ClientResult(ManagementOutcome.Done, new ManagedClient(after));
    }

    public async Task<ClientResult> DeleteAsync(string clientId, string actor, CancellationToken cancellationToken)
    {
        using var _ = LookupCache.Bypass();
        if (await applications.FindByClientIdAsync(clientId, cancellationToken) is not { } application)
        {
            return new ClientResult(ManagementOutcome.NotFound);
        }
        // Revoked first, so a token read between the steps is already refused. Every node then drops
        // the client from its cache while it still exists (a request in between finds it and its
        // token goes with it), and the store removes it with its grants and tokens.
        await RevokeGrantsAsync(application, cancellationToken);
        await changes.PublishAsync(cancellationToken);
        await applications.DeleteAsync(application, cancellationToken);
        await audit.RecordAsync(SecurityEventTypes.ClientDeleted, clientId: clientId, actor: actor, detail: clientId, cancellationToken: cancellationToken);
        return new ClientResult(ManagementOutcome.Done);
    }

    /// <summary>
    /// Disables a client (every request it makes is refused from now on, on every node, and its grants
    /// and tokens are revoked) or enables it again. Its settings and secrets stay.
    /// </summary>
    public async Task<ClientResult> SetEnabledAsync(string clientId, bool enabled, string actor, CancellationToken cancellationToken)
    {
        using var _ = LookupCache.Bypass();
        if (await applications.FindByClientIdAsync(clientId, cancellationToken) is not { } application)
        {
            return new ClientResult(ManagementOutcome.NotFound);
        }
        if (await DisabledClients.IsDisabledAsync(applications, application, cancellationToken) != enabled)
        {
            return new ClientResult(ManagementOutcome.Done, new ManagedClient(await DescribeAsync(application, cancellationToken)));
        }
        var descriptor = new OpenIddictApplicationDescriptor();
        await applications.PopulateAsync(descriptor, application, cancellationToken);
        if (enabled)
        {
            descriptor.Properties.Remove(DisabledClients.Property);
        }
        else
        {
            descriptor.Properties[DisabledClients.Property] = JsonSerializer.SerializeToElement(true);
        }
        // Refused first (on every node: the update is published), then what it holds is revoked.
        await applications.PopulateAsync(application, descriptor, cancellationToken);
        await applications.UpdateAsync(application, cancellationToken);
        if (!enabled)
        {
            await RevokeGrantsAsync(application, cancellationToken);
        }
        await audit.RecordAsync(enabled ? SecurityEventTypes.ClientEnabled : SecurityEventTypes.ClientDisabled,
            clientId: clientId, actor: actor, detail: clientId, cancellationToken: cancellationToken);
        return new ClientResult(ManagementOutcome.Done, new ManagedClient(Seeder.FromDescriptor(descriptor)));
    }

    /// <summary>The client's secrets: id, dates and whether each still works; never a secret or hash.</summary>
    public async Task<SecretResult> ListSecretsAsync(string clientId, CancellationToken cancellationToken)
    {
        using var _ = LookupCache.Bypass();
        if (await SecretsOfAsync(clientId, cancellationToken) is not ({ } secrets, _))
        {
            return await PublicOrMissingAsync(clientId, cancellationToken);
        }
        var now = clock.GetUtcNow();
        return new SecretResult(ManagementOutcome.Done, secrets.Select(s => new ManagedSecret(s.Id, s.Created, s.ExpiresAt, s.IsActive(now))).ToList());
    }

    /// <summary>
    /// Generates a new secret for a confidential client (answered once, stored as a hash) beside the one
    /// in use, so that the application can switch without downtime; the one in use can be given an
    /// expiry in the same call. A client holds at most two active secrets; expired ones are dropped.
    /// </summary>
    public async Task<SecretResult> AddSecretAsync(string clientId, AddSecretRequest? request, string actor, CancellationToken cancellationToken)
    {
        request ??= new AddSecretRequest();
        var now = clock.GetUtcNow();
        if (request.ExpiresAt <= now)
        {
            return InvalidSecret("expiresAt", "The new secret's expiry must be in the future.");
        }
        if (request.PreviousExpiresAt <= now)
        {
            return InvalidSecret("previousExpiresAt", "The expiry of the secret in use must be in the future; to end it now, delete it once the new one is in use.");
        }
        using var _ = LookupCache.Bypass();
        if (await SecretsOfAsync(clientId, cancellationToken) is not ({ } secrets, { } application))
        {
            return await PublicOrMissingAsync(clientId, cancellationToken);
        }
        var kept = secrets.Where(s => s.IsActive(now)).ToList();
        if (kept.Count >= ClientSecrets.MaxActive)
        {
            return new SecretResult(ManagementOutcome.Conflict,
                Problem: $"The client holds {ClientSecrets.MaxActive} active secrets already: delete the one it no longer uses first.");
        }
        if (request.PreviousExpiresAt is { } previousExpiry)
        {
            kept = [.. kept.Select(s => s with { ExpiresAt = s.ExpiresAt is { } e && e < previousExpiry ? e : previousExpiry })];
        }
        var secret = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var added = new ClientSecret(NewSecretId(), await Manager.HashClientSecretAsync(secret, cancellationToken), now, request.ExpiresAt);
        await Manager.SetClientSecretsAsync(application, [.. kept, added], cancellationToken);

        var detail = $"secret {added.Id} added" + (added.ExpiresAt is { } expires ? $", expires {expires:u}" : "")
            + string.Concat(kept.Where(static s => s.ExpiresAt is not null).Select(static s => $"; secret {s.Id} expires {s.ExpiresAt:u}"));
        await audit.RecordAsync(SecurityEventTypes.ClientSecretAdded, clientId: clientId, actor: actor, detail: detail, cancellationToken: cancellationToken);
        return new SecretResult(ManagementOutcome.Done, Added: new NewSecret(added.Id, secret, now, added.ExpiresAt));
    }

    /// <summary>Removes one of the client's secrets at once (on every node); never its last active one.</summary>
    public async Task<SecretResult> RemoveSecretAsync(string clientId, string secretId, string actor, CancellationToken cancellationToken)
    {
        using var _ = LookupCache.Bypass();
        if (await SecretsOfAsync(clientId, cancellationToken) is not ({ } secrets, { } application))
        {
            return await PublicOrMissingAsync(clientId, cancellationToken);
        }
        if (secrets.FirstOrDefault(s => s.Id == secretId) is not { } removed)
        {
            return new SecretResult(ManagementOutcome.NotFound, Problem: "No such secret.");
        }
        var now = clock.GetUtcNow();
        var kept = secrets.Where(s => s.Id != secretId && s.IsActive(now)).ToList();
        if (kept.Count == 0)
        {
            return new SecretResult(ManagementOutcome.Conflict,
                Problem: "This is the client's only active secret: add its replacement (POST .../secrets) before deleting it.");
        }
        await Manager.SetClientSecretsAsync(application, kept, cancellationToken);
        await audit.RecordAsync(SecurityEventTypes.ClientSecretRemoved, clientId: clientId, actor: actor, detail: $"secret {removed.Id} removed", cancellationToken: cancellationToken);
        return new SecretResult(ManagementOutcome.Done);
    }

    /// <summary>
    /// A confidential client's secrets and the client; (null, null) when there is no such client or it
    /// is public. A client registered with one secret lists it as <see cref="ClientSecrets.InitialSecretId"/>.
    /// </summary>
    private async Task<(IReadOnlyList<ClientSecret>?, OpenIddictEntityFrameworkCoreApplication?)> SecretsOfAsync(string clientId, CancellationToken cancellationToken)
    {
        if (await applications.FindByClientIdAsync(clientId, cancellationToken) is not OpenIddictEntityFrameworkCoreApplication application
            || await applications.HasClientTypeAsync(application, ClientTypes.Public, cancellationToken))
        {
            return (null, null);
        }
        var descriptor = new OpenIddictApplicationDescriptor();
        await applications.PopulateAsync(descriptor, application, cancellationToken);
        var secrets = ClientSecrets.Read(descriptor.Properties)
            ?? (string.IsNullOrEmpty(descriptor.ClientSecret) ? [] : [new ClientSecret(ClientSecrets.InitialSecretId, descriptor.ClientSecret, null, null)]);
        return (secrets, application);
    }

    private async Task<SecretResult> PublicOrMissingAsync(string clientId, CancellationToken cancellationToken) =>
        await applications.FindByClientIdAsync(clientId, cancellationToken) is null
            ? new SecretResult(ManagementOutcome.NotFound, Problem: "No such client.")
            : new SecretResult(ManagementOutcome.Conflict, Problem: "A public client has no secret.");

    private static SecretResult InvalidSecret(string field, string message) =>
        new(ManagementOutcome.Invalid, Errors: new Dictionary<string, string[]> { [field] = [message] });

    private static string NewSecretId() => WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(6));

    private CachingApplicationManager Manager => applications as CachingApplicationManager
        ?? throw new InvalidOperationException("Client secrets are managed through the server's application manager.");

    private async Task RevokeGrantsAsync(object application, CancellationToken cancellationToken)
    {
        var id = await applications.GetIdAsync(application, cancellationToken);
        await tokens.RevokeByApplicationIdAsync(id!, cancellationToken);
        await authorizations.RevokeByApplicationIdAsync(id!, cancellationToken);
    }

    private async Task<SeedClient> DescribeAsync(object application, CancellationToken cancellationToken)
    {
        var descriptor = new OpenIddictApplicationDescriptor();
        await applications.PopulateAsync(descriptor, application, cancellationToken);
        return Seeder.FromDescriptor(descriptor);
    }

    /// <summary>The seed file's checks, against the scopes registered now; null when the client passes.</summary>
    private async Task<IDictionary<string, string[]>?> ValidateAsync(SeedClient client, CancellationToken cancellationToken)
    {
        var document = new SeedDocument { Clients = [client] };
        await foreach (var scope in scopes.ListAsync(count: null, offset: null, cancellationToken))
        {
            if (await scopes.GetNameAsync(scope, cancellationToken) is { } name && !Seeder.BuiltInScopes.Any(s => s.Name == name))
            {
                document.Scopes.Add(new SeedScope { Name = name });
            }
        }
        try
        {
            SeedLoader.Validate(document, Source, backchannelTargets);
            return null;
        }
        catch (SeedException problem)
        {
            return new Dictionary<string, string[]> { ["client"] = ProblemLines(problem) };
        }
    }

    /// <summary>The seed validator's problems, one per line without the entry's name ("Clients[0] ('id'): "): the entry is the one in the request.</summary>
    internal static string[] ProblemLines(SeedException problem) =>
        problem.Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(static line => line.Contains("): ", StringComparison.Ordinal) ? line[(line.IndexOf("): ", StringComparison.Ordinal) + 3)..] : line)
            .ToArray();

    private static SeedClient Copy(SeedClient request, string? secret) => new()
    {
        ClientId = request.ClientId?.Trim(),
        ClientSecret = secret,
        ClientType = request.ClientType,
        DisplayName = request.DisplayName,
        DisplayNames = request.DisplayNames ?? [],
        ClientUri = request.ClientUri,
        ConsentType = request.ConsentType,
        RequirePkce = request.RequirePkce,
        RequirePushedAuthorization = request.RequirePushedAuthorization,
        RequireDPoP = request.RequireDPoP,
        JsonWebKeySet = request.JsonWebKeySet,
        JsonWebKeySetUri = request.JsonWebKeySetUri,
        RedirectUris = request.RedirectUris ?? [],
        PostLogoutRedirectUris = request.PostLogoutRedirectUris ?? [],
        GrantTypes = request.GrantTypes ?? [],
        Scopes = request.Scopes ?? [],
        Introspection = request.Introspection,
        TokenExchangeAudiences = request.TokenExchangeAudiences ?? [],
        RequireMfa = request.RequireMfa,
        BackchannelLogoutUri = request.BackchannelLogoutUri,
        Enabled = request.Enabled,
        AccessTokenLifetime = request.AccessTokenLifetime,
        RefreshTokenLifetime = request.RefreshTokenLifetime,
    };

    private static ClientResult Invalid(string field, string message) =>
        new(ManagementOutcome.Invalid, Errors: new Dictionary<string, string[]> { [field] = [message] });
}
