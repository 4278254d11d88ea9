namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// The seed every test host starts with: one of each kind of client, an API scope and two users.
/// The shop requires PKCE by default; the portal opts out (<c>RequirePkce: false</c>), so that tests
/// which only need a signed-in browser sign in through it without PKCE.
/// </summary>
internal static class TestSeed
{
    public const string WebClientId = "shop";
    public const string WebClientSecret = "shop-secret-0123456789";
    public const string WebRedirectUri = "https://shop.example/signin-oidc";
    public const string WebPostLogoutRedirectUri = "https://shop.example/signout-callback-oidc";
    public const string ImplicitConsentClientId = "portal";
    public const string PortalRedirectUri = "https://portal.example/signin-oidc";
    public const string PublicClientId = "spa";
    public const string PublicRedirectUri = "http://127.0.0.1:7890/callback";
    public const string WorkerClientId = "billing-worker";
    public const string WorkerSecret = "worker-secret-0123456789";
    public const string ApiClientId = "orders-api";
    public const string ApiSecret = "orders-api-secret-0123456789";
    public const string ApiScope = "orders";
    public const string UserName = "alice";
    public const string UserEmail = "alice@example.com";
    public const string UserPassword = "Alice-Passw0rd!";
    public const string SecondUserName = "bob";
    public const string SecondUserPassword = "Bob-Passw0rd!";
    public const string AdminClientId = "ops-automation";
    public const string AdminClientSecret = "ops-automation-secret-0123456789";

    public static string Json => $$"""
    {
      "Scopes": [ { "Name": "{{ApiScope}}", "DisplayName": "Orders API", "DisplayNames": { "de": "Bestell-API" }, "Resources": ["{{ApiClientId}}"] } ],
      "Clients": [
        { "ClientId": "{{WebClientId}}", "ClientSecret": "{{WebClientSecret}}", "ClientType": "confidential", "DisplayName": "Shop", "DisplayNames": { "de": "Laden" }, "ClientUri": "https://shop.example/",
          "ConsentType": "explicit",
          "RedirectUris": ["{{WebRedirectUri}}"],
          "PostLogoutRedirectUris": ["{{WebPostLogoutRedirectUri}}"],
          "GrantTypes": ["authorization_code", "refresh_token"],
          "Scopes": ["openid", "profile", "email", "offline_access", "{{ApiScope}}"] },
        { "ClientId": "{{ImplicitConsentClientId}}", "ClientSecret": "portal-secret-0123456789", "DisplayName": "Portal",
          "ConsentType": "implicit", "RequirePkce": false,
          "RedirectUris": ["{{PortalRedirectUri}}"],
          "GrantTypes": ["authorization_code", "refresh_token"],
          "Scopes": ["openid", "profile", "offline_access", "{{ApiScope}}"] },
        { "ClientId": "{{PublicClientId}}", "ClientType": "public", "DisplayName": "Single-page app",
          "RedirectUris": ["{{PublicRedirectUri}}"],
          "GrantTypes": ["authorization_code", "refresh_token"],
          "Scopes": ["openid", "profile", "offline_access", "{{ApiScope}}"] },
        { "ClientId": "{{WorkerClientId}}", "ClientSecret": "{{WorkerSecret}}", "ClientType": "confidential",
          "GrantTypes": ["client_credentials"], "Scopes": ["{{ApiScope}}"] },
        { "ClientId": "{{ApiClientId}}", "ClientSecret": "{{ApiSecret}}", "ClientType": "confidential", "Introspection": true },
        { "ClientId": "{{AdminClientId}}", "ClientSecret": "{{AdminClientSecret}}", "ClientType": "confidential",
          "GrantTypes": ["client_credentials"], "Scopes": ["idp.admin"] }
      ],
      "Users": [
        { "UserName": "{{UserName}}", "Email": "{{UserEmail}}", "Password": "{{UserPassword}}",
          "Roles": ["admin"], "Claims": { "name": "Alice Example" } },
        { "UserName": "{{SecondUserName}}", "Email": "bob@example.com", "Password": "{{SecondUserPassword}}" }
      ]
    }
    """;
}
