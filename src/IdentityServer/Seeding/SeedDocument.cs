namespace IdentityServer.Seeding;

/// <summary>The seed file: scopes, clients and users applied idempotently at every start.</summary>
public sealed class SeedDocument
{
    public List<SeedScope> Scopes { get; set; } = [];

    public List<SeedClient> Clients { get; set; } = [];

    public List<SeedUser> Users { get; set; } = [];
}

public sealed class SeedScope
{
    public string? Name { get; set; }

    public string? DisplayName { get; set; }

    /// <summary>The display name in other languages, by culture name (<c>"de": "Die Demo-API verwenden"</c>): what the consent page shows a reader of that language.</summary>
    public Dictionary<string, string> DisplayNames { get; set; } = [];

    public string? Description { get; set; }

    /// <summary>The resource servers (audiences) an access token with this scope is for.</summary>
    public List<string> Resources { get; set; } = [];

    /// <summary>
    /// User claims that an access token carrying this scope also carries (empty by default: an
    /// access token names the user by <c>sub</c> only). Allowed: the <c>profile</c> claims (<c>name</c>,
    /// <c>preferred_username</c>, ...), which still need the <c>profile</c> scope granted too;
    /// <c>email</c> and <c>email_verified</c>, which still need the <c>email</c> scope; and <c>role</c>.
    /// </summary>
    public List<string> AccessTokenClaims { get; set; } = [];
}

public sealed class SeedClient
{
    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>
    /// Instead of <see cref="ClientSecret"/>: the client's secrets as hashes (what <c>GET /api/admin/export</c>
    /// writes, so that a restored server accepts the same secrets). At most two active; each may expire.
    /// </summary>
    public List<SeedClientSecret>? ClientSecrets { get; set; }

    /// <summary>
    /// The client's public keys, a JWK Set (<c>{"keys": [...]}</c>): the client authenticates by signing a
    /// client assertion with its private key (<c>private_key_jwt</c>, RFC 7523, OpenID Connect Core 9)
    /// instead of, or as well as, sending a secret. A confidential client needs a secret or keys.
    /// </summary>
    public System.Text.Json.JsonElement? JsonWebKeySet { get; set; }

    /// <summary>
    /// Instead of <see cref="JsonWebKeySet"/>: where the client publishes its public keys (<c>jwks_uri</c>), so
    /// that it rotates them without asking anyone. The set is fetched when needed and cached (see
    /// <c>ClientKeySets</c> in the configuration), through the same address checks as back-channel logout.
    /// </summary>
    public string? JsonWebKeySetUri { get; set; }

    /// <summary>
    /// <c>false</c> disables the client (every request it makes is refused, its grants and tokens are
    /// revoked); <c>true</c> enables it again. Left out: as it is (a new client is enabled), so a client an
    /// administrator disabled stays disabled at the next start.
    /// </summary>
    public bool? Enabled { get; set; }

    /// <summary><c>confidential</c> (default) or <c>public</c>.</summary>
    public string? ClientType { get; set; }

    public string? DisplayName { get; set; }

    /// <summary>The display name in other languages, by culture name, for the pages of readers of that language.</summary>
    public Dictionary<string, string> DisplayNames { get; set; } = [];

    /// <summary>The application's home page (OpenID Connect Dynamic Client Registration's <c>client_uri</c>), linked on the consent page: https, or http on a loopback host.</summary>
    public string? ClientUri { get; set; }

    /// <summary><c>explicit</c> (default: the user is asked once) or <c>implicit</c> (first-party app, no consent page).</summary>
    public string? ConsentType { get; set; }

    /// <summary>
    /// PKCE (S256) is required from every client by default (RFC 9700 2.1.1). <c>false</c> lets a
    /// confidential client that cannot send it opt out (logged as a warning at every start); a
    /// public client cannot.
    /// </summary>
    public bool RequirePkce { get; set; } = true;

    /// <summary>
    /// The client must push its authorization requests to <c>/connect/par</c> first (RFC 9126) and send
    /// only <c>client_id</c> and the <c>request_uri</c> it got to the authorization endpoint; a request
    /// with its parameters in the browser's URL is refused. Default <c>false</c>: any client allowed the
    /// code flow may push its requests, none has to.
    /// </summary>
    public bool RequirePushedAuthorization { get; set; }

    /// <summary>
    /// The client must send a DPoP proof (RFC 9449) with every token request, so that its access tokens
    /// (and, for a public client, its refresh tokens) are bound to its key and useless without it. Default
    /// <c>false</c>: any client may send proofs, none has to.
    /// </summary>
    public bool RequireDPoP { get; set; }

    public List<string> RedirectUris { get; set; } = [];

    public List<string> PostLogoutRedirectUris { get; set; } = [];

    public List<string> GrantTypes { get; set; } = [];

    public List<string> Scopes { get; set; } = [];

    /// <summary>Lets the client call the introspection endpoint (a resource server).</summary>
    public bool Introspection { get; set; }

    /// <summary>
    /// With the token-exchange grant (RFC 8693): the audiences this client may ask for (<c>audience=</c>) when
    /// it exchanges a token it received for one to a downstream API. Without, an exchanged token's audience is
    /// the resources of its scopes.
    /// </summary>
    public List<string> TokenExchangeAudiences { get; set; } = [];

    /// <summary>
    /// Every sign-in for this client needs two factors (<c>acr</c> <c>mfa</c>), as if it sent
    /// <c>acr_values=mfa</c>: a user with a password only is asked for a code, one without a second
    /// factor sets one up first. Default <c>false</c>.
    /// </summary>
    public bool RequireMfa { get; set; }

    /// <summary>Where the client receives logout tokens when a session it took part in ends (Back-Channel Logout 1.0).</summary>
    public string? BackchannelLogoutUri { get; set; }

    /// <summary>
    /// This client's access tokens live this long (<c>"00:05:00"</c>) instead of <c>IdentityServer:AccessTokenLifetime</c>;
    /// never longer than that setting (a longer value is cut to it). From one minute to one day.
    /// </summary>
    public TimeSpan? AccessTokenLifetime { get; set; }

    /// <summary>
    /// This client's refresh tokens live this long instead of <c>IdentityServer:RefreshTokenLifetime</c>; never
    /// longer than that setting, nor than the session. From five minutes to 365 days.
    /// </summary>
    public TimeSpan? RefreshTokenLifetime { get; set; }
}

/// <summary>A client secret as the export writes it: OpenIddict's hash, never the secret.</summary>
public sealed class SeedClientSecret
{
    public string? Id { get; set; }

    public string? Hash { get; set; }

    public DateTimeOffset? Created { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }
}

public sealed class SeedUser
{
    public string? UserName { get; set; }

    public string? Email { get; set; }

    public string? Password { get; set; }

    public List<string> Roles { get; set; } = [];

    public Dictionary<string, string> Claims { get; set; } = [];
}
