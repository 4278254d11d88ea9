using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using IdentityServer.Admin;
using IdentityServer.Authorization;
using IdentityServer.BackchannelLogout;
using IdentityServer.Data;
using IdentityServer.StepUp;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Seeding;

/// <summary>
/// Applies a seed document through OpenIddict's managers and Identity: creates what is missing,
/// updates what changed, leaves everything not named in the seed alone.
/// </summary>
internal sealed class Seeder(
    IOpenIddictScopeManager scopes,
    IOpenIddictApplicationManager applications,
    IOpenIddictAuthorizationManager authorizations,
    IOpenIddictTokenManager tokens,
    UserManager<ApplicationUser> users,
    RoleManager<IdentityRole> roles,
    ILogger<Seeder> logger)
{
    /// <summary>Scopes the server itself serves, ensured at every start; a seed cannot redefine them.</summary>
    internal static readonly SeedScope[] BuiltInScopes =
    [
        // The admin API authorizes a user's token by its role claim (AdminAccess): the scope asks for it.
        new() { Name = AdminScope.Name, DisplayName = "Administer the identity provider", DisplayNames = { ["de"] = "Den Identitätsanbieter verwalten" }, Resources = [AdminScope.Resource], AccessTokenClaims = [Claims.Role] },
    ];

    public async Task ApplyAsync(SeedDocument document, string source, CancellationToken cancellationToken)
    {
        // Entities read here are updated: they must come from this scope's DbContext, not a cache.
        using var _ = LookupCache.Bypass();
        var changes = 0;
        // Built-in scopes first: a seed client may be granted them without the seed defining them.
        foreach (var scope in BuiltInScopes.Concat(document.Scopes))
        {
            changes += await ApplyScopeAsync(scope, cancellationToken) ? 1 : 0;
        }
        for (var i = 0; i < document.Clients.Count; i++)
        {
            changes += await ApplyClientAsync(document.Clients[i], cancellationToken) ? 1 : 0;
        }
        for (var i = 0; i < document.Users.Count; i++)
        {
            changes += await ApplyUserAsync(document.Users[i], $"Seed file '{source}': Users[{i}] ('{document.Users[i].UserName}')") ? 1 : 0;
        }
        logger.LogInformation("Seed {Source} applied: {Changes} entries created or updated.", source, changes);
    }

    private async Task<bool> ApplyScopeAsync(SeedScope seed, CancellationToken cancellationToken)
    {
        var descriptor = ToDescriptor(seed);
        var existing = await scopes.FindByNameAsync(seed.Name!, cancellationToken);
        if (existing is null)
        {
            await scopes.CreateAsync(descriptor, cancellationToken);
            return true;
        }

        var current = new OpenIddictScopeDescriptor();
        await scopes.PopulateAsync(current, existing, cancellationToken);
        // Properties the seed does not own (set by other tools) are kept; the seed owns its claim list.
        foreach (var (name, value) in current.Properties.Where(static p => p.Key != AccessTokenClaims.Property))
        {
            descriptor.Properties[name] = value;
        }
        if (current.DisplayName == descriptor.DisplayName
            && DisplayNamesEqual(current.DisplayNames, descriptor.DisplayNames)
            && current.Description == descriptor.Description
            && current.Resources.SetEquals(descriptor.Resources)
            && PropertyEquals(current.Properties, descriptor.Properties, AccessTokenClaims.Property))
        {
            return false;
        }
        await scopes.UpdateAsync(existing, descriptor, cancellationToken);
        return true;
    }

    internal static OpenIddictScopeDescriptor ToDescriptor(SeedScope seed)
    {
        var descriptor = new OpenIddictScopeDescriptor
        {
            Name = seed.Name,
            DisplayName = seed.DisplayName,
            Description = seed.Description,
        };
        descriptor.Resources.UnionWith(seed.Resources);
        AddDisplayNames(descriptor.DisplayNames, seed.DisplayNames);
        if (seed.AccessTokenClaims.Count > 0)
        {
            descriptor.Properties[AccessTokenClaims.Property] = AccessTokenClaims.ToProperty(seed.AccessTokenClaims);
        }
        return descriptor;
    }

    /// <summary>A registered scope in the seed file's shape: the inverse of <see cref="ToDescriptor(SeedScope)"/>.</summary>
    internal static SeedScope FromDescriptor(OpenIddictScopeDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        return new SeedScope
        {
            Name = descriptor.Name,
            DisplayName = descriptor.DisplayName,
            DisplayNames = descriptor.DisplayNames.ToDictionary(static p => p.Key.Name, static p => p.Value, StringComparer.OrdinalIgnoreCase),
            Description = descriptor.Description,
            Resources = [.. descriptor.Resources.Order(StringComparer.Ordinal)],
            AccessTokenClaims = descriptor.Properties.TryGetValue(AccessTokenClaims.Property, out var claims) ? [.. AccessTokenClaims.FromProperty(claims)] : [],
        };
    }

    private async Task<bool> ApplyClientAsync(SeedClient seed, CancellationToken cancellationToken)
    {
        if (!seed.RequirePkce && seed.GrantTypes.Contains(GrantTypes.AuthorizationCode))
        {
            logger.LogWarning(
                "Client {ClientId} is exempt from PKCE (RequirePkce: false in the seed): its authorization codes are not bound to the request that asked for them (RFC 9700 2.1.1).",
                seed.ClientId);
        }
        var descriptor = ToDescriptor(seed);
        var existing = await applications.FindByClientIdAsync(seed.ClientId!, cancellationToken);
        if (existing is null)
        {
            // The manager stores only a hash of the secret. Hashed secrets (from an export) are the
            // client's from the start; OpenIddict's own column then gets the newest of them.
            var created = await applications.CreateAsync(descriptor, cancellationToken);
            if (seed.ClientSecrets is not null)
            {
                await ((CachingApplicationManager)applications).SetClientSecretsAsync((OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication)created, ToSecrets(seed.ClientSecrets), cancellationToken);
            }
            return true;
        }

        var current = new OpenIddictApplicationDescriptor();
        await applications.PopulateAsync(current, existing, cancellationToken);
        // Properties the seed does not own (set by other tools) are kept; the seed owns only its own,
        // and the enabled state and hashed secrets only when it names them.
        // Secrets managed at run time (a list) belong to the admin API from then on: neither the seed's plain
        // ClientSecret nor its hashed ClientSecrets replace them, or a restart would bring back a secret an
        // administrator retired (and stop the one that replaced it).
        var managed = ClientSecrets.Read(current.Properties) is not null;
        foreach (var (name, value) in current.Properties.Where(p => !SeededProperties.Contains(p.Key)
            && !(p.Key == DisabledClients.Property && seed.Enabled is not null)
            && !(p.Key == ClientSecrets.Property && seed.ClientSecrets is not null && !managed)))
        {
            descriptor.Properties[name] = value;
        }
        bool secretMatches;
        if (seed.ClientSecrets is not null || (descriptor.ClientSecret is not null && managed))
        {
            var seedSecretApplies = seed.ClientSecrets is null
                ? await applications.ValidateClientSecretAsync(existing, descriptor.ClientSecret!, cancellationToken)
                : !managed || PropertyEquals(current.Properties, ToDescriptor(seed).Properties, ClientSecrets.Property);
            if (managed && !seedSecretApplies)
            {
                logger.LogWarning(
                    "Client {ClientId}: the seed's client secret is not applied, because the client's secrets are managed through the admin API (POST /api/admin/clients/{{id}}/secrets). Remove ClientSecret or ClientSecrets from the seed entry.",
                    seed.ClientId);
            }
            descriptor.ClientSecret = current.ClientSecret;
            secretMatches = true;
        }
        else
        {
            secretMatches = descriptor.ClientSecret is null
                ? string.IsNullOrEmpty(current.ClientSecret)
                : await applications.ValidateClientSecretAsync(existing, descriptor.ClientSecret, cancellationToken);
        }

        if (secretMatches
            && current.ClientType == descriptor.ClientType
            && current.DisplayName == descriptor.DisplayName
            && DisplayNamesEqual(current.DisplayNames, descriptor.DisplayNames)
            && current.ConsentType == descriptor.ConsentType
            && ClientKeys.Same(current.JsonWebKeySet, descriptor.JsonWebKeySet)
            && current.RedirectUris.SetEquals(descriptor.RedirectUris)
            && current.PostLogoutRedirectUris.SetEquals(descriptor.PostLogoutRedirectUris)
            && current.Permissions.SetEquals(descriptor.Permissions)
            && current.Requirements.SetEquals(descriptor.Requirements)
            && current.Settings.Count == descriptor.Settings.Count && current.Settings.All(p => descriptor.Settings.TryGetValue(p.Key, out var value) && value == p.Value)
            && current.Properties.Keys.Union(descriptor.Properties.Keys).All(name => PropertyEquals(current.Properties, descriptor.Properties, name)))
        {
            return false;
        }

        if (secretMatches)
        {
            // Keep the stored hash rather than hashing the same secret again.
            descriptor.ClientSecret = current.ClientSecret;
            await applications.PopulateAsync(existing, descriptor, cancellationToken);
            await applications.UpdateAsync(existing, cancellationToken);
        }
        else
        {
            await applications.UpdateAsync(existing, descriptor, cancellationToken);
        }
        if (seed.Enabled == false && !IsDisabled(current))
        {
            // Disabled by the seed: what the client was given stops too, as when an administrator disables it.
            var id = await applications.GetIdAsync(existing, cancellationToken);
            await tokens.RevokeByApplicationIdAsync(id!, cancellationToken);
            await authorizations.RevokeByApplicationIdAsync(id!, cancellationToken);
        }
        return true;
    }

    private static bool IsDisabled(OpenIddictApplicationDescriptor descriptor) =>
        descriptor.Properties.TryGetValue(DisabledClients.Property, out var value) && value.ValueKind == JsonValueKind.True;

    /// <summary>Application properties that come from the seed: set, changed or removed with it.</summary>
    private static readonly string[] SeededProperties = [BackchannelLogoutOutbox.UriProperty, StepUpPolicy.RequireMfaProperty, ClientUriProperty, RemoteKeySets.Property];

    /// <summary>The application property holding the seed's <see cref="SeedClient.ClientUri"/> (the name Dynamic Client Registration gives it).</summary>
    public const string ClientUriProperty = "client_uri";

    /// <summary>OpenIddict keeps display names per culture and picks the reader's (GetLocalizedDisplayNameAsync).</summary>
    private static void AddDisplayNames(Dictionary<System.Globalization.CultureInfo, string> target, Dictionary<string, string> names)
    {
        foreach (var (culture, name) in names)
        {
            target[System.Globalization.CultureInfo.GetCultureInfo(culture)] = name;
        }
    }

    private static bool DisplayNamesEqual(Dictionary<System.Globalization.CultureInfo, string> current, Dictionary<System.Globalization.CultureInfo, string> wanted) =>
        current.Count == wanted.Count && current.All(p => wanted.TryGetValue(p.Key, out var name) && name == p.Value);

    /// <summary>Whether an application property belongs to the client's settings (set from the seed or the admin API).</summary>
    internal static bool IsSeededProperty(string name) => SeededProperties.Contains(name, StringComparer.Ordinal);

    private static bool PropertyEquals(Dictionary<string, JsonElement> current, Dictionary<string, JsonElement> wanted, string name) =>
        current.TryGetValue(name, out var have) == wanted.TryGetValue(name, out var want)
            && (have.ValueKind == JsonValueKind.Undefined || JsonElement.DeepEquals(have, want));

    internal static OpenIddictApplicationDescriptor ToDescriptor(SeedClient seed)
    {
        var type = seed.ClientType ?? ClientTypes.Confidential;
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = seed.ClientId,
            // Hashed secrets are set as a property; OpenIddict wants a secret of a confidential client
            // at creation: one nobody knows, replaced by the newest hash (Seeder.ApplyClientAsync).
            ClientSecret = type != ClientTypes.Confidential ? null
                : seed.ClientSecrets is not null ? WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32))
                : seed.ClientSecret,
            JsonWebKeySet = seed.JsonWebKeySet is { } keys && type == ClientTypes.Confidential ? ClientKeys.PublicOnly(keys) : null,
            ClientType = type,
            DisplayName = seed.DisplayName ?? seed.ClientId,
            ConsentType = seed.ConsentType ?? ConsentTypes.Explicit,
        };

        foreach (var uri in seed.RedirectUris)
        {
            descriptor.RedirectUris.Add(new Uri(uri, UriKind.Absolute));
        }
        foreach (var uri in seed.PostLogoutRedirectUris)
        {
            descriptor.PostLogoutRedirectUris.Add(new Uri(uri, UriKind.Absolute));
        }

        AddDisplayNames(descriptor.DisplayNames, seed.DisplayNames);
        if (seed.ClientUri is not null)
        {
            descriptor.Properties[ClientUriProperty] = JsonSerializer.SerializeToElement(seed.ClientUri);
        }

        if (seed.BackchannelLogoutUri is not null)
        {
            descriptor.Properties[BackchannelLogoutOutbox.UriProperty] = JsonSerializer.SerializeToElement(seed.BackchannelLogoutUri);
        }
        if (seed.JsonWebKeySetUri is not null && type == ClientTypes.Confidential)
        {
            descriptor.Properties[RemoteKeySets.Property] = JsonSerializer.SerializeToElement(seed.JsonWebKeySetUri);
        }

        if (seed.Enabled == false)
        {
            descriptor.Properties[DisabledClients.Property] = JsonSerializer.SerializeToElement(true);
        }
        if (seed.AccessTokenLifetime is { } access)
        {
            descriptor.Settings[Settings.TokenLifetimes.AccessToken] = access.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        }
        if (seed.RefreshTokenLifetime is { } refresh)
        {
            descriptor.Settings[Settings.TokenLifetimes.RefreshToken] = refresh.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        }
        if (type == ClientTypes.Confidential && seed.ClientSecrets is not null)
        {
            descriptor.Properties[ClientSecrets.Property] = ClientSecrets.ToProperty(ToSecrets(seed.ClientSecrets));
        }

        if (seed.RequireMfa)
        {
            descriptor.Properties[StepUpPolicy.RequireMfaProperty] = JsonSerializer.SerializeToElement(true);
        }

        // Every client may revoke its own tokens (RFC 7009).
        descriptor.Permissions.Add(Permissions.Endpoints.Revocation);
        if (seed.GrantTypes.Count > 0)
        {
            descriptor.Permissions.Add(Permissions.Endpoints.Token);
        }
        if (seed.GrantTypes.Contains(GrantTypes.AuthorizationCode))
        {
            descriptor.Permissions.Add(Permissions.Endpoints.Authorization);
            descriptor.Permissions.Add(Permissions.Endpoints.EndSession);
            descriptor.Permissions.Add(Permissions.ResponseTypes.Code);
            // Every client by default (RFC 9700 2.1.1); SeedLoader refuses an opt-out for a public client.
            if (type == ClientTypes.Public || seed.RequirePkce)
            {
                descriptor.Requirements.Add(Requirements.Features.ProofKeyForCodeExchange);
            }
            // Any client allowed the code flow may push its requests (PushedAuthorizationPermission);
            // this one must.
            if (seed.RequirePushedAuthorization)
            {
                descriptor.Requirements.Add(Requirements.Features.PushedAuthorizationRequests);
            }
        }
        if (seed.RequireDPoP)
        {
            descriptor.Requirements.Add(DPoP.Requirement);
        }
        if (seed.GrantTypes.Contains(GrantTypes.DeviceCode))
        {
            descriptor.Permissions.Add(Permissions.Endpoints.DeviceAuthorization);
        }
        if (seed.Introspection)
        {
            descriptor.Permissions.Add(Permissions.Endpoints.Introspection);
        }
        foreach (var grant in seed.GrantTypes)
        {
            descriptor.Permissions.Add(Permissions.Prefixes.GrantType + grant);
        }
        foreach (var scope in seed.Scopes.Where(static s => s != Scopes.OpenId))
        {
            descriptor.Permissions.Add(Permissions.Prefixes.Scope + scope);
        }
        foreach (var audience in seed.TokenExchangeAudiences)
        {
            descriptor.Permissions.Add(Permissions.Prefixes.Audience + audience);
        }
        return descriptor;
    }

    /// <summary>
    /// A registered client in the seed file's shape (without its secret, which only a hash of is
    /// stored): the inverse of <see cref="ToDescriptor"/>. <c>openid</c> is listed for clients users
    /// sign in to, as OpenIddict needs no permission for it.
    /// </summary>
    internal static SeedClient FromDescriptor(OpenIddictApplicationDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        string? Text(string property) =>
            descriptor.Properties.TryGetValue(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        var grants = descriptor.Permissions.Where(static p => p.StartsWith(Permissions.Prefixes.GrantType, StringComparison.Ordinal))
            .Select(static p => p[Permissions.Prefixes.GrantType.Length..]).Order(StringComparer.Ordinal).ToList();
        var scopes = descriptor.Permissions.Where(static p => p.StartsWith(Permissions.Prefixes.Scope, StringComparison.Ordinal))
            .Select(static p => p[Permissions.Prefixes.Scope.Length..]).ToList();
        if (descriptor.Permissions.Contains(Permissions.Endpoints.Authorization))
        {
            scopes.Insert(0, Scopes.OpenId);
        }
        return new SeedClient
        {
            ClientId = descriptor.ClientId,
            ClientType = descriptor.ClientType,
            DisplayName = descriptor.DisplayName,
            DisplayNames = descriptor.DisplayNames.ToDictionary(static p => p.Key.Name, static p => p.Value, StringComparer.OrdinalIgnoreCase),
            ClientUri = Text(ClientUriProperty),
            ConsentType = descriptor.ConsentType,
            RequirePkce = descriptor.Requirements.Contains(Requirements.Features.ProofKeyForCodeExchange) || !grants.Contains(GrantTypes.AuthorizationCode),
            RequirePushedAuthorization = descriptor.Requirements.Contains(Requirements.Features.PushedAuthorizationRequests),
            RequireDPoP = descriptor.Requirements.Contains(DPoP.Requirement),
            JsonWebKeySet = descriptor.JsonWebKeySet is { } keys ? ClientKeys.ToJson(keys) : null,
            RedirectUris = [.. descriptor.RedirectUris.Select(static u => u.OriginalString)],
            PostLogoutRedirectUris = [.. descriptor.PostLogoutRedirectUris.Select(static u => u.OriginalString)],
            GrantTypes = grants,
            Scopes = scopes,
            Introspection = descriptor.Permissions.Contains(Permissions.Endpoints.Introspection),
            TokenExchangeAudiences = [.. descriptor.Permissions.Where(static p => p.StartsWith(Permissions.Prefixes.Audience, StringComparison.Ordinal))
                .Select(static p => p[Permissions.Prefixes.Audience.Length..]).Order(StringComparer.Ordinal)],
            RequireMfa = descriptor.Properties.TryGetValue(StepUpPolicy.RequireMfaProperty, out var mfa) && mfa.ValueKind == JsonValueKind.True,
            BackchannelLogoutUri = Text(BackchannelLogoutOutbox.UriProperty),
            JsonWebKeySetUri = Text(RemoteKeySets.Property),
            Enabled = !IsDisabled(descriptor),
            AccessTokenLifetime = ClientTokenLifetimes.Read(descriptor.Settings, Settings.TokenLifetimes.AccessToken),
            RefreshTokenLifetime = ClientTokenLifetimes.Read(descriptor.Settings, Settings.TokenLifetimes.RefreshToken),
        };
    }

    private static List<ClientSecret> ToSecrets(IEnumerable<SeedClientSecret> secrets) =>
        [.. secrets.Select(static s => new ClientSecret(s.Id!, s.Hash!, s.Created, s.ExpiresAt))];

    private async Task<bool> ApplyUserAsync(SeedUser seed, string entry)
    {
        var changed = false;
        var user = await users.FindByNameAsync(seed.UserName!);
        if (user is null)
        {
            user = new ApplicationUser { UserName = seed.UserName, Email = seed.Email, EmailConfirmed = seed.Email is not null };
            if (string.IsNullOrEmpty(seed.Password))
            {
                // An exported account: no password until its owner sets one ("Forgot password").
                Check(await users.CreateAsync(user), entry);
                logger.LogInformation("Seed user {UserName} was created without a password: it can sign in once a password is set through \"Forgot password\".", seed.UserName);
            }
            else
            {
                Check(await users.CreateAsync(user, seed.Password), entry);
            }
            changed = true;
        }
        else
        {
            // Anyone may pick a user name on the registration page: one an operator adds to the seed
            // later must not hand that stranger the seed's roles and a verified address.
            if (await users.GetAuthenticationTokenAsync(user, Registration.Registrations.MarkerProvider, Registration.Registrations.MarkerName) is not null)
            {
                throw new SeedException($"{entry}: the user name '{seed.UserName}' belongs to an account that registered itself; the seed does not take it over. Rename the entry, or delete that account first.");
            }
            if (!string.Equals(user.Email, seed.Email, StringComparison.OrdinalIgnoreCase))
            {
                user.Email = seed.Email;
                user.EmailConfirmed = seed.Email is not null;
                Check(await users.UpdateAsync(user), entry);
                changed = true;
            }
            if (!string.IsNullOrEmpty(seed.Password) && !await users.CheckPasswordAsync(user, seed.Password))
            {
                var token = await users.GeneratePasswordResetTokenAsync(user);
                Check(await users.ResetPasswordAsync(user, token, seed.Password), entry);
                changed = true;
            }
        }

        var currentRoles = await users.GetRolesAsync(user);
        foreach (var role in seed.Roles.Except(currentRoles, StringComparer.OrdinalIgnoreCase))
        {
            if (!await roles.RoleExistsAsync(role))
            {
                Check(await roles.CreateAsync(new IdentityRole(role)), entry);
            }
            Check(await users.AddToRoleAsync(user, role), entry);
            changed = true;
        }
        var extraRoles = currentRoles.Except(seed.Roles, StringComparer.OrdinalIgnoreCase).ToList();
        if (extraRoles.Count > 0)
        {
            Check(await users.RemoveFromRolesAsync(user, extraRoles), entry);
            changed = true;
        }

        var currentClaims = await users.GetClaimsAsync(user);
        foreach (var (type, value) in seed.Claims)
        {
            var existing = currentClaims.Where(c => c.Type == type).ToList();
            if (existing.Count == 1 && existing[0].Value == value)
            {
                continue;
            }
            if (existing.Count > 0)
            {
                Check(await users.RemoveClaimsAsync(user, existing), entry);
            }
            Check(await users.AddClaimAsync(user, new Claim(type, value)), entry);
            changed = true;
        }
        return changed;
    }

    private static void Check(IdentityResult result, string entry)
    {
        if (!result.Succeeded)
        {
            throw new SeedException($"{entry}: {string.Join(" ", result.Errors.Select(e => e.Description))}");
        }
    }
}
