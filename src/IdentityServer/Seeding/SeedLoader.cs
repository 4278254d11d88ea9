using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using IdentityServer.Authorization;
using IdentityServer.BackchannelLogout;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Seeding;

/// <summary>Reads and validates a seed file; every problem names the file, the entry and what is wrong.</summary>
internal static partial class SeedLoader
{
    public static readonly string[] SupportedGrantTypes = [GrantTypes.AuthorizationCode, GrantTypes.RefreshToken, GrantTypes.ClientCredentials, GrantTypes.DeviceCode, GrantTypes.TokenExchange];

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <param name="backchannelTargets">Where back-channel logout URIs may point; <see cref="BackchannelLogoutTargets.Strict"/> when not given.</param>
    public static SeedDocument Load(string path, BackchannelLogoutTargets? backchannelTargets = null)
    {
        if (!File.Exists(path))
        {
            throw new SeedException($"Seed file '{path}': the file does not exist (setting Seed:Path).");
        }

        SeedDocument? document;
        try
        {
            using var stream = File.OpenRead(path);
            document = JsonSerializer.Deserialize<SeedDocument>(stream, JsonOptions);
        }
        catch (JsonException exception)
        {
            throw new SeedException($"Seed file '{path}': invalid JSON at {exception.Path ?? "$"} (line {exception.LineNumber + 1}): {FirstSentence(exception.Message)}", exception);
        }

        if (document is null)
        {
            throw new SeedException($"Seed file '{path}': the file is empty.");
        }
        RejectNulls(document, path);
        Validate(document, path, backchannelTargets);
        return document;
    }

    public static void Validate(SeedDocument document, string source, BackchannelLogoutTargets? backchannelTargets = null)
    {
        backchannelTargets ??= BackchannelLogoutTargets.Strict;
        var errors = new List<string>();
        var scopeNames = new HashSet<string>(AuthorizationSetup.StandardScopes.Concat(Seeder.BuiltInScopes.Select(static s => s.Name!)), StringComparer.Ordinal);

        for (var i = 0; i < document.Scopes.Count; i++)
        {
            var scope = document.Scopes[i];
            var entry = $"Scopes[{i}]" + (scope.Name is null ? "" : $" ('{scope.Name}')");
            if (string.IsNullOrWhiteSpace(scope.Name) || !ScopeToken().IsMatch(scope.Name))
            {
                errors.Add($"{entry}: Name is required and may contain only printable ASCII without spaces, quotes or backslashes.");
            }
            else if (!scopeNames.Add(scope.Name))
            {
                errors.Add($"{entry}: the scope is defined twice or redefines a standard or built-in scope.");
            }
            CheckDisplayNames(scope.DisplayNames, entry, errors);
            if (scope.Resources.Any(string.IsNullOrWhiteSpace))
            {
                errors.Add($"{entry}: Resources must not contain empty names.");
            }
            foreach (var claim in scope.AccessTokenClaims.Where(static c => c is null || !AccessTokenClaims.Releasable.Contains(c)))
            {
                errors.Add($"{entry}: AccessTokenClaims contains '{claim}', which is not a claim this server puts in access tokens; "
                    + $"allowed: {string.Join(", ", AccessTokenClaims.Releasable.Order(StringComparer.Ordinal))}.");
            }
        }

        var clientIds = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < document.Clients.Count; i++)
        {
            var client = document.Clients[i];
            var entry = $"Clients[{i}]" + (client.ClientId is null ? "" : $" ('{client.ClientId}')");
            if (string.IsNullOrWhiteSpace(client.ClientId) || client.ClientId.Length > 100)
            {
                errors.Add($"{entry}: ClientId is required (at most 100 characters).");
            }
            else if (!clientIds.Add(client.ClientId))
            {
                errors.Add($"{entry}: the ClientId is used twice.");
            }

            var type = client.ClientType ?? ClientTypes.Confidential;
            if (type is not (ClientTypes.Confidential or ClientTypes.Public))
            {
                errors.Add($"{entry}: ClientType must be 'confidential' or 'public', not '{type}'.");
            }
            if (type == ClientTypes.Confidential && string.IsNullOrEmpty(client.ClientSecret) && client.ClientSecrets is null && client.JsonWebKeySet is null
                && client.JsonWebKeySetUri is null)
            {
                errors.Add($"{entry}: a confidential client needs a ClientSecret (or a JsonWebKeySet or JsonWebKeySetUri to sign client assertions with).");
            }
            if (client.JsonWebKeySetUri is { } keysUri)
            {
                if (type == ClientTypes.Public)
                {
                    errors.Add($"{entry}: a public client cannot have a JsonWebKeySetUri; it cannot keep a private key.");
                }
                if (client.JsonWebKeySet is not null)
                {
                    errors.Add($"{entry}: give the keys inline (JsonWebKeySet) or by URL (JsonWebKeySetUri), not both.");
                }
                CheckBackchannelLogoutUri(client.ClientId ?? "", keysUri, $"{entry}: JsonWebKeySetUri", backchannelTargets, errors);
            }
            if (client.JsonWebKeySet is { } keys)
            {
                if (type == ClientTypes.Public)
                {
                    errors.Add($"{entry}: a public client cannot have a JsonWebKeySet; it cannot keep a private key.");
                }
                errors.AddRange(Authorization.ClientKeys.Problems(keys).Select(problem => $"{entry}: JsonWebKeySet {problem}"));
            }
            if (type == ClientTypes.Public && (!string.IsNullOrEmpty(client.ClientSecret) || client.ClientSecrets is not null))
            {
                errors.Add($"{entry}: a public client cannot have a ClientSecret.");
            }
            if (client.ClientSecrets is not null)
            {
                CheckClientSecrets(client, entry, errors);
            }
            if (type == ClientTypes.Public && !client.RequirePkce)
            {
                errors.Add($"{entry}: RequirePkce cannot be false for a public client; PKCE is what protects its authorization codes (RFC 9700 2.1.1).");
            }
            if (client.RequireDPoP && client.GrantTypes.Count == 0)
            {
                errors.Add($"{entry}: RequireDPoP needs a grant type; DPoP proofs come with token requests (RFC 9449).");
            }
            if (client.RequirePushedAuthorization && !client.GrantTypes.Contains(GrantTypes.AuthorizationCode))
            {
                errors.Add($"{entry}: RequirePushedAuthorization needs the authorization_code grant; pushed requests are authorization requests (RFC 9126).");
            }
            if (client.ConsentType is not (null or ConsentTypes.Explicit or ConsentTypes.Implicit))
            {
                errors.Add($"{entry}: ConsentType must be 'explicit' or 'implicit', not '{client.ConsentType}'.");
            }
            foreach (var grant in client.GrantTypes.Where(g => !SupportedGrantTypes.Contains(g)))
            {
                errors.Add($"{entry}: GrantTypes contains '{grant}'; supported: {string.Join(", ", SupportedGrantTypes)}.");
            }
            if (type == ClientTypes.Public && client.GrantTypes.Contains(GrantTypes.ClientCredentials))
            {
                errors.Add($"{entry}: a public client cannot use client_credentials.");
            }
            if (type == ClientTypes.Public && client.GrantTypes.Contains(GrantTypes.TokenExchange))
            {
                errors.Add($"{entry}: a public client cannot use token exchange; the exchanging service must authenticate (RFC 8693 2.1).");
            }
            if (client.TokenExchangeAudiences.Count > 0 && !client.GrantTypes.Contains(GrantTypes.TokenExchange))
            {
                errors.Add($"{entry}: TokenExchangeAudiences needs the {GrantTypes.TokenExchange} grant.");
            }
            foreach (var audience in client.TokenExchangeAudiences.Where(static a => string.IsNullOrWhiteSpace(a) || a.Length > 200 || a.Any(char.IsWhiteSpace)))
            {
                errors.Add($"{entry}: TokenExchangeAudiences holds '{audience}'; an audience is a name without spaces, of at most 200 characters.");
            }
            if (type == ClientTypes.Public && client.Introspection)
            {
                errors.Add($"{entry}: a public client cannot have Introspection; it has no secret to authenticate to the introspection endpoint with, so anyone could use its client id (RFC 7662 2.1).");
            }
            if (client.GrantTypes.Contains(GrantTypes.AuthorizationCode) && client.RedirectUris.Count == 0)
            {
                errors.Add($"{entry}: the authorization_code grant needs at least one RedirectUri.");
            }
            for (var j = 0; j < client.RedirectUris.Count; j++)
            {
                CheckUri(client.RedirectUris[j], $"{entry}: RedirectUris[{j}]", errors);
            }
            for (var j = 0; j < client.PostLogoutRedirectUris.Count; j++)
            {
                CheckUri(client.PostLogoutRedirectUris[j], $"{entry}: PostLogoutRedirectUris[{j}]", errors);
            }
            if (client.ClientUri is not null)
            {
                CheckClientUri(client.ClientUri, $"{entry}: ClientUri", errors);
            }
            CheckDisplayNames(client.DisplayNames, entry, errors);
            if (client.BackchannelLogoutUri is not null)
            {
                CheckBackchannelLogoutUri(client.ClientId ?? "", client.BackchannelLogoutUri, $"{entry}: BackchannelLogoutUri", backchannelTargets, errors);
                if (!client.GrantTypes.Contains(GrantTypes.AuthorizationCode))
                {
                    errors.Add($"{entry}: BackchannelLogoutUri needs the authorization_code grant; only clients users sign in to take part in sessions.");
                }
            }
            if (client.AccessTokenLifetime is { } access && (access < TimeSpan.FromMinutes(1) || access > TimeSpan.FromDays(1)))
            {
                errors.Add($"{entry}: AccessTokenLifetime must be from 00:01:00 to 1.00:00:00, not {access:c}.");
            }
            if (client.RefreshTokenLifetime is { } refresh && (refresh < TimeSpan.FromMinutes(5) || refresh > TimeSpan.FromDays(365)))
            {
                errors.Add($"{entry}: RefreshTokenLifetime must be from 00:05:00 to 365.00:00:00, not {refresh:c}.");
            }
            foreach (var scope in client.Scopes.Where(s => !scopeNames.Contains(s)))
            {
                errors.Add($"{entry}: Scopes contains '{scope}', which is neither a standard or built-in scope nor defined under Scopes.");
            }
        }

        var userNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < document.Users.Count; i++)
        {
            var user = document.Users[i];
            var entry = $"Users[{i}]" + (user.UserName is null ? "" : $" ('{user.UserName}')");
            if (string.IsNullOrWhiteSpace(user.UserName))
            {
                errors.Add($"{entry}: UserName is required.");
            }
            else if (!userNames.Add(user.UserName))
            {
                errors.Add($"{entry}: the UserName is used twice.");
            }
            if (user.Email is not null && !EmailAddress().IsMatch(user.Email))
            {
                errors.Add($"{entry}: Email '{user.Email}' is not an email address.");
            }
            if (user.Roles.Any(string.IsNullOrWhiteSpace) || user.Claims.Keys.Any(string.IsNullOrWhiteSpace))
            {
                errors.Add($"{entry}: Roles and Claims must not contain empty names.");
            }
        }

        if (errors.Count > 0)
        {
            throw new SeedException($"Seed file '{source}' is invalid:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors));
        }
    }

    /// <summary>JSON null where a list, an entry or a value is expected is a mistake in the file, not an empty value.</summary>
    private static void RejectNulls(SeedDocument document, string source)
    {
        var errors = new List<string>();
        void Check(object? value, string where)
        {
            if (value is null)
            {
                errors.Add($"{where}: must not be null.");
            }
        }

        Check(document.Scopes, "Scopes");
        Check(document.Clients, "Clients");
        Check(document.Users, "Users");
        for (var i = 0; i < (document.Scopes?.Count ?? 0); i++)
        {
            var scope = document.Scopes![i];
            Check(scope, $"Scopes[{i}]");
            Check(scope?.Resources, $"Scopes[{i}].Resources");
            scope?.Resources?.Select((r, j) => (r, j)).ToList().ForEach(x => Check(x.r, $"Scopes[{i}].Resources[{x.j}]"));
            Check(scope?.AccessTokenClaims, $"Scopes[{i}].AccessTokenClaims");
            Check(scope?.DisplayNames, $"Scopes[{i}].DisplayNames");
            scope?.AccessTokenClaims?.Select((c, j) => (c, j)).ToList().ForEach(x => Check(x.c, $"Scopes[{i}].AccessTokenClaims[{x.j}]"));
        }
        for (var i = 0; i < (document.Clients?.Count ?? 0); i++)
        {
            var client = document.Clients![i];
            Check(client, $"Clients[{i}]");
            Check(client?.DisplayNames, $"Clients[{i}].DisplayNames");
            client?.ClientSecrets?.Select((v, j) => (v, j)).ToList().ForEach(x => Check(x.v, $"Clients[{i}].ClientSecrets[{x.j}]"));
            foreach (var (list, name) in new[] { (client?.RedirectUris, "RedirectUris"), (client?.PostLogoutRedirectUris, "PostLogoutRedirectUris"), (client?.GrantTypes, "GrantTypes"), (client?.Scopes, "Scopes") })
            {
                Check(list, $"Clients[{i}].{name}");
                list?.Select((v, j) => (v, j)).ToList().ForEach(x => Check(x.v, $"Clients[{i}].{name}[{x.j}]"));
            }
        }
        for (var i = 0; i < (document.Users?.Count ?? 0); i++)
        {
            var user = document.Users![i];
            Check(user, $"Users[{i}]");
            Check(user?.Roles, $"Users[{i}].Roles");
            user?.Roles?.Select((v, j) => (v, j)).ToList().ForEach(x => Check(x.v, $"Users[{i}].Roles[{x.j}]"));
            Check(user?.Claims, $"Users[{i}].Claims");
            foreach (var (type, value) in user?.Claims ?? [])
            {
                Check(value, $"Users[{i}].Claims['{type}']");
            }
        }
        if (errors.Count > 0)
        {
            throw new SeedException($"Seed file '{source}' is invalid:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors));
        }
    }

    /// <summary>A page people open from the consent page: https, or http on a loopback host, and nothing else (no javascript:).</summary>
    /// <summary>Hashed secrets (an export's): named, with a hash, at least one and at most two active.</summary>
    private static void CheckClientSecrets(SeedClient client, string entry, List<string> errors)
    {
        var secrets = client.ClientSecrets!;
        if (!string.IsNullOrEmpty(client.ClientSecret))
        {
            errors.Add($"{entry}: give either ClientSecret or ClientSecrets, not both.");
        }
        for (var j = 0; j < secrets.Count; j++)
        {
            if (string.IsNullOrWhiteSpace(secrets[j].Id) || secrets[j].Id!.Length > 64 || string.IsNullOrWhiteSpace(secrets[j].Hash))
            {
                errors.Add($"{entry}: ClientSecrets[{j}] needs an Id (at most 64 characters) and a Hash.");
            }
        }
        if (secrets.Select(static s => s.Id).Distinct(StringComparer.Ordinal).Count() != secrets.Count)
        {
            errors.Add($"{entry}: ClientSecrets has two entries with one Id.");
        }
        // All expired is accepted: an export of a client that cannot authenticate until it gets a new secret.
        var active = secrets.Count(static s => s.ExpiresAt is not { } expires || expires > DateTimeOffset.UtcNow);
        if (secrets.Count == 0 || active > Authorization.ClientSecrets.MaxActive)
        {
            errors.Add($"{entry}: ClientSecrets must hold a secret, and at most two that have not expired, not {active}.");
        }
    }

    private static void CheckClientUri(string value, string entry, List<string> errors)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)))
        {
            errors.Add($"{entry}: '{value}' must be an absolute https URL (http only on a loopback host).");
        }
    }

    /// <summary>Each key a culture name (<c>de</c>, <c>de-CH</c>), each name non-empty.</summary>
    private static void CheckDisplayNames(Dictionary<string, string>? names, string entry, List<string> errors)
    {
        foreach (var (culture, name) in names ?? [])
        {
            if (!CultureName().IsMatch(culture))
            {
                errors.Add($"{entry}: DisplayNames has '{culture}', which is not a culture name such as 'de' or 'de-CH'.");
            }
            else if (string.IsNullOrWhiteSpace(name))
            {
                errors.Add($"{entry}: DisplayNames['{culture}'] is empty.");
            }
        }
    }

    private static void CheckUri(string value, string entry, List<string> errors)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri))
        {
            errors.Add($"{entry}: '{value}' is not an absolute URI.");
        }
        else if (!string.IsNullOrEmpty(uri.Fragment))
        {
            errors.Add($"{entry}: '{value}' must not contain a fragment.");
        }
        else if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
        {
            errors.Add($"{entry}: '{value}' uses plain http on a non-loopback host; use https.");
        }
    }

    /// <summary>
    /// The identity provider itself calls this URI, so only http(s) makes sense (Back-Channel Logout 1.0,
    /// section 2.2), and only where the client may be reached (<see cref="BackchannelLogoutTargets"/>):
    /// plain http stays limited to loopback, which only Development and allowed clients may use.
    /// </summary>
    private static void CheckBackchannelLogoutUri(string clientId, string value, string entry, BackchannelLogoutTargets targets, List<string> errors)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            errors.Add($"{entry}: '{value}' is not an absolute http(s) URI.");
            return;
        }
        var count = errors.Count;
        CheckUri(value, entry, errors);
        if (errors.Count == count && targets.CheckUri(clientId, uri) is { } problem)
        {
            errors.Add($"{entry}: '{value}' points at {problem}.");
        }
    }

    private static string FirstSentence(string message) =>
        message.Split(" Path:", 2)[0].Trim();

    [GeneratedRegex(@"^[\x21\x23-\x5B\x5D-\x7E]+$")]
    private static partial Regex ScopeToken();

    [GeneratedRegex(@"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")]
    private static partial Regex CultureName();

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+$")]
    private static partial Regex EmailAddress();
}

/// <summary>A seed file that cannot be applied; start-up stops with this message.</summary>
public sealed class SeedException : Exception
{
    public SeedException(string message) : base(message)
    {
    }

    public SeedException(string message, Exception inner) : base(message, inner)
    {
    }

    public SeedException()
    {
    }
}
