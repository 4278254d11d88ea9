using System.Text.Json;
using IdentityServer.Seeding;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Pages.Admin.Clients;

/// <summary>
/// A client's settings as the admin pages edit them: the seed file's fields, with URI lists as one URI
/// per line. Display names in other languages and the client's public keys are not on the form: they stay
/// as the API or the seed set them.
/// </summary>
public sealed class ClientForm
{
    public string ClientId { get; set; } = "";

    public string ClientType { get; set; } = ClientTypes.Confidential;

    public string? DisplayName { get; set; }

    public string? ClientUri { get; set; }

    public string ConsentType { get; set; } = ConsentTypes.Explicit;

    public bool RequirePkce { get; set; } = true;

    public bool RequirePushedAuthorization { get; set; }

    public bool RequireDPoP { get; set; }

    public string? RedirectUris { get; set; }

    public string? PostLogoutRedirectUris { get; set; }

    public List<string> GrantTypes { get; set; } = [];

    public List<string> Scopes { get; set; } = [];

    public bool Introspection { get; set; }

    public bool RequireMfa { get; set; }

    public string? BackchannelLogoutUri { get; set; }

    /// <summary>Where the client publishes its public keys (jwks_uri), for client assertions.</summary>
    public string? JsonWebKeySetUri { get; set; }

    /// <summary>Or its public keys as a JWK Set (JSON text).</summary>
    public string? JsonWebKeySet { get; set; }

    /// <summary>With the token-exchange grant: the audiences the client may ask for, one per line.</summary>
    public string TokenExchangeAudiences { get; set; } = "";

    /// <summary>Access tokens' lifetime in minutes; empty: the server's.</summary>
    public int? AccessTokenMinutes { get; set; }

    /// <summary>Refresh tokens' lifetime in days; empty: the server's.</summary>
    public int? RefreshTokenDays { get; set; }

    public static ClientForm From(SeedClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new ClientForm
        {
            ClientId = client.ClientId ?? "",
            ClientType = client.ClientType ?? ClientTypes.Confidential,
            DisplayName = client.DisplayName,
            ClientUri = client.ClientUri,
            ConsentType = client.ConsentType ?? ConsentTypes.Explicit,
            RequirePkce = client.RequirePkce,
            RequirePushedAuthorization = client.RequirePushedAuthorization,
            RequireDPoP = client.RequireDPoP,
            RedirectUris = string.Join('\n', client.RedirectUris),
            PostLogoutRedirectUris = string.Join('\n', client.PostLogoutRedirectUris),
            GrantTypes = [.. client.GrantTypes],
            Scopes = [.. client.Scopes],
            Introspection = client.Introspection,
            RequireMfa = client.RequireMfa,
            BackchannelLogoutUri = client.BackchannelLogoutUri,
            TokenExchangeAudiences = string.Join('\n', client.TokenExchangeAudiences),
            JsonWebKeySetUri = client.JsonWebKeySetUri,
            JsonWebKeySet = client.JsonWebKeySet is { } keys ? JsonSerializer.Serialize(keys, Indented) : null,
            AccessTokenMinutes = client.AccessTokenLifetime is { } access ? Minutes(access) : null,
            RefreshTokenDays = client.RefreshTokenLifetime is { } refresh ? Days(refresh) : null,
        };
    }

    /// <summary>
    /// The client these fields describe. From <paramref name="current"/> (the client as stored) its display
    /// names in other languages are kept, and its exact token lifetimes when the form shows them unchanged
    /// (the form rounds them up to whole minutes and days).
    /// </summary>
    public SeedClient ToClient(SeedClient? current = null) => new()
    {
        ClientId = ClientId,
        ClientType = ClientType,
        DisplayName = Blank(DisplayName),
        DisplayNames = current?.DisplayNames ?? [],
        JsonWebKeySet = Keys(JsonWebKeySet),
        JsonWebKeySetUri = Blank(JsonWebKeySetUri),
        TokenExchangeAudiences = Lines(TokenExchangeAudiences),
        ClientUri = Blank(ClientUri),
        ConsentType = ConsentType,
        RequirePkce = RequirePkce,
        RequirePushedAuthorization = RequirePushedAuthorization,
        RequireDPoP = RequireDPoP,
        RedirectUris = Lines(RedirectUris),
        PostLogoutRedirectUris = Lines(PostLogoutRedirectUris),
        GrantTypes = [.. GrantTypes.Distinct(StringComparer.Ordinal)],
        Scopes = [.. Scopes.Distinct(StringComparer.Ordinal)],
        Introspection = Introspection,
        RequireMfa = RequireMfa,
        BackchannelLogoutUri = Blank(BackchannelLogoutUri),
        AccessTokenLifetime = AccessTokenMinutes is not { } minutes ? null
            : current?.AccessTokenLifetime is { } access && Minutes(access) == minutes ? access
            : TimeSpan.FromMinutes(Math.Clamp(minutes, -1, 100_000)),
        RefreshTokenLifetime = RefreshTokenDays is not { } days ? null
            : current?.RefreshTokenLifetime is { } refresh && Days(refresh) == days ? refresh
            : TimeSpan.FromDays(Math.Clamp(days, -1, 100_000)),
    };

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The pasted key set; text that is not JSON is kept as a JSON string, which the validator names as not a JWK Set.</summary>
    private static JsonElement? Keys(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(text);
        }
    }

    // Out-of-range values stay out of range (the seed file's validator names them) without overflowing.
    private static int Minutes(TimeSpan lifetime) => (int)Math.Ceiling(lifetime.TotalMinutes);

    private static int Days(TimeSpan lifetime) => (int)Math.Ceiling(lifetime.TotalDays);

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static List<string> Lines(string? value) =>
        [.. (value ?? "").Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
}

/// <summary>What the shared fields need: the values, and the scopes a client may be given.</summary>
public sealed record ClientFieldsModel(ClientForm Form, IReadOnlyList<string> AvailableScopes);
