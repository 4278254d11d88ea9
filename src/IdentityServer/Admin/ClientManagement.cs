using System.Security.Cryptography;
using IdentityServer.Audit;
using IdentityServer.Authorization;
using IdentityServer.BackchannelLogout;
using IdentityServer.Seeding;
using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Admin;

/// <summary>
/// Clients registered, read and deleted at run time through the admin API, with no restart. A new
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
    AuditLog audit)
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
        if (request.ClientSecret is not null)
        {
            return Invalid("clientSecret", "The server generates client secrets: leave clientSecret out, and read the secret from the answer.");
        }
        using var _ = LookupCache.Bypass();
        var confidential = (request.ClientType ?? ClientTypes.Confidential) == ClientTypes.Confidential;
        var secret = confidential ? WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32)) : null;
        var client = Copy(request, secret);
        if (await ValidateAsync(client, cancellationToken) is { } errors)
        {
            return new ClientResult(ManagementOutcome.Invalid, Errors: errors);
        }
        if (await applications.FindByClientIdAsync(client.ClientId!, cancellationToken) is not null)
        {
            return new ClientResult(ManagementOutcome.Conflict, Problem: $"A client '{client.ClientId}' exists already.");
        }

        await applications.CreateAsync(Seeder.ToDescriptor(client), cancellationToken);
        await audit.RecordAsync(SecurityEventTypes.ClientCreated, clientId: client.ClientId, actor: actor, detail: client.ClientId, cancellationToken: cancellationToken);
        client.ClientSecret = null;
        return new ClientResult(ManagementOutcome.Done, new ManagedClient(client, secret));
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
        var id = await applications.GetIdAsync(application, cancellationToken);
        await tokens.RevokeByApplicationIdAsync(id!, cancellationToken);
        await authorizations.RevokeByApplicationIdAsync(id!, cancellationToken);
        await changes.PublishAsync(cancellationToken);
        await applications.DeleteAsync(application, cancellationToken);
        await audit.RecordAsync(SecurityEventTypes.ClientDeleted, clientId: clientId, actor: actor, detail: clientId, cancellationToken: cancellationToken);
        return new ClientResult(ManagementOutcome.Done);
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
            // One line per problem, each "Clients[0] ('id'): what is wrong": the entry is this client.
            var lines = problem.Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(static line => line.Contains("): ", StringComparison.Ordinal) ? line[(line.IndexOf("): ", StringComparison.Ordinal) + 3)..] : line)
                .ToArray();
            return new Dictionary<string, string[]> { ["client"] = lines };
        }
    }

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
        RedirectUris = request.RedirectUris ?? [],
        PostLogoutRedirectUris = request.PostLogoutRedirectUris ?? [],
        GrantTypes = request.GrantTypes ?? [],
        Scopes = request.Scopes ?? [],
        Introspection = request.Introspection,
        RequireMfa = request.RequireMfa,
        BackchannelLogoutUri = request.BackchannelLogoutUri,
    };

    private static ClientResult Invalid(string field, string message) =>
        new(ManagementOutcome.Invalid, Errors: new Dictionary<string, string[]> { [field] = [message] });
}
