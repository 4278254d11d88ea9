using System.Text.Json;

namespace IdentityServer.Authorization;

/// <summary>
/// One of a confidential client's secrets: OpenIddict's hash of it (never the secret), when it was
/// made and, during a rotation, when it stops working.
/// </summary>
public sealed record ClientSecret(string Id, string Hash, DateTimeOffset? Created, DateTimeOffset? ExpiresAt)
{
    public bool IsActive(DateTimeOffset now) => ExpiresAt is not { } expires || expires > now;
}

/// <summary>
/// The secrets a client holds once they are managed at run time, kept in the application's
/// <see cref="Property"/> (OpenIddict's properties, a JSON array), so a client can hold two during a
/// rotation, each with its own expiry. A client without the property (registered by the seed file with
/// one secret) has OpenIddict's single hashed secret, listed as <see cref="InitialSecretId"/>.
/// <see cref="CachingApplicationManager"/> checks a presented secret against every active entry.
/// </summary>
public static class ClientSecrets
{
    public const string Property = "client_secrets";

    /// <summary>How the secret a client was registered with (by the seed file) is listed once its secrets are managed at run time.</summary>
    public const string InitialSecretId = "initial";

    /// <summary>At most this many active secrets per client: the one in use and the one replacing it.</summary>
    public const int MaxActive = 2;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The managed list, or null when the client has only OpenIddict's single secret.</summary>
    public static IReadOnlyList<ClientSecret>? Read(IReadOnlyDictionary<string, JsonElement> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        return properties.TryGetValue(Property, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.Deserialize<List<ClientSecret>>(Json)
            : null;
    }

    public static JsonElement ToProperty(IEnumerable<ClientSecret> secrets) => JsonSerializer.SerializeToElement(secrets.ToList(), Json);
}
