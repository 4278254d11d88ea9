using IdentityServer.Seeding;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Pages.Admin.Clients;

/// <summary>
/// A client's settings as the admin pages edit them: the seed file's fields, with URI lists as one URI
/// per line. Display names in other languages are not on the form: they stay as the API or the seed set them.
/// </summary>
public sealed class ClientForm
{
    public string ClientId { get; set; } = "";

    public string ClientType { get; set; } = ClientTypes.Confidential;

    public string? DisplayName { get; set; }

    public string? ClientUri { get; set; }

    public string ConsentType { get; set; } = ConsentTypes.Explicit;

    public bool RequirePkce { get; set; } = true;

    public string? RedirectUris { get; set; }

    public string? PostLogoutRedirectUris { get; set; }

    public List<string> GrantTypes { get; set; } = [];

    public List<string> Scopes { get; set; } = [];

    public bool Introspection { get; set; }

    public bool RequireMfa { get; set; }

    public string? BackchannelLogoutUri { get; set; }

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
            RedirectUris = string.Join('\n', client.RedirectUris),
            PostLogoutRedirectUris = string.Join('\n', client.PostLogoutRedirectUris),
            GrantTypes = [.. client.GrantTypes],
            Scopes = [.. client.Scopes],
            Introspection = client.Introspection,
            RequireMfa = client.RequireMfa,
            BackchannelLogoutUri = client.BackchannelLogoutUri,
            AccessTokenMinutes = client.AccessTokenLifetime is { } access ? (int)Math.Ceiling(access.TotalMinutes) : null,
            RefreshTokenDays = client.RefreshTokenLifetime is { } refresh ? (int)Math.Ceiling(refresh.TotalDays) : null,
        };
    }

    /// <summary>The client these fields describe; <paramref name="displayNames"/> are the ones it has (kept).</summary>
    public SeedClient ToClient(Dictionary<string, string>? displayNames = null) => new()
    {
        ClientId = ClientId,
        ClientType = ClientType,
        DisplayName = Blank(DisplayName),
        DisplayNames = displayNames ?? [],
        ClientUri = Blank(ClientUri),
        ConsentType = ConsentType,
        RequirePkce = RequirePkce,
        RedirectUris = Lines(RedirectUris),
        PostLogoutRedirectUris = Lines(PostLogoutRedirectUris),
        GrantTypes = [.. GrantTypes.Distinct(StringComparer.Ordinal)],
        Scopes = [.. Scopes.Distinct(StringComparer.Ordinal)],
        Introspection = Introspection,
        RequireMfa = RequireMfa,
        BackchannelLogoutUri = Blank(BackchannelLogoutUri),
        AccessTokenLifetime = AccessTokenMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : null,
        RefreshTokenLifetime = RefreshTokenDays is { } days ? TimeSpan.FromDays(days) : null,
    };

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static List<string> Lines(string? value) =>
        [.. (value ?? "").Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
}

/// <summary>What the shared fields need: the values, and the scopes a client may be given.</summary>
public sealed record ClientFieldsModel(ClientForm Form, IReadOnlyList<string> AvailableScopes);
