using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Seeding;

/// <summary>The demo set used in Development when no seed file is configured. Never used elsewhere.</summary>
internal static class DevelopmentSeed
{
    public const string UserName = "alice";
    public const string Password = "Passw0rd!";
    public const string WebClientId = "demo-web";
    public const string WebClientSecret = "demo-web-secret";
    public const string WebRedirectUri = "http://localhost:5002/signin-oidc";

    public static SeedDocument Document { get; } = new()
    {
        Scopes =
        [
            new SeedScope { Name = "demo-api", DisplayName = "Use the Demo API", DisplayNames = { ["de"] = "Die Demo-API verwenden" }, Resources = ["demo-api"] },
        ],
        Clients =
        [
            new SeedClient
            {
                ClientId = WebClientId,
                ClientSecret = WebClientSecret,
                ClientType = ClientTypes.Confidential,
                DisplayName = "Demo Web App",
                ClientUri = "http://localhost:5002/",
                ConsentType = ConsentTypes.Explicit,
                RequirePkce = true,
                RedirectUris = [WebRedirectUri],
                PostLogoutRedirectUris = ["http://localhost:5002/signout-callback-oidc"],
                GrantTypes = [GrantTypes.AuthorizationCode, GrantTypes.RefreshToken],
                Scopes = [Scopes.OpenId, Scopes.Profile, Scopes.Email, Scopes.OfflineAccess, "demo-api"],
            },
            new SeedClient
            {
                ClientId = "demo-worker",
                ClientSecret = "demo-worker-secret",
                DisplayName = "Demo Worker",
                GrantTypes = [GrantTypes.ClientCredentials],
                Scopes = ["demo-api"],
            },
            new SeedClient
            {
                ClientId = "demo-admin",
                ClientSecret = "demo-admin-secret",
                DisplayName = "Demo admin automation",
                GrantTypes = [GrantTypes.ClientCredentials],
                Scopes = [Admin.AdminScope.Name],
            },
            new SeedClient
            {
                ClientId = "demo-api",
                ClientSecret = "demo-api-secret",
                DisplayName = "Demo API",
                Introspection = true,
            },
        ],
        Users =
        [
            new SeedUser
            {
                UserName = UserName,
                Email = "alice@example.com",
                Password = Password,
                Roles = [Admin.AdminScope.Role],
                Claims = new() { [Claims.Name] = "Alice Example", [Claims.GivenName] = "Alice", [Claims.FamilyName] = "Example" },
            },
        ],
    };
}
