using System.Text.Json.Nodes;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.StepUp;

/// <summary>The test host with two more clients that require two factors (<c>RequireMfa: true</c>): the vault (code flow, no consent page) and its TV app (device flow).</summary>
public sealed class StepUpFactory : IdentityServerFactory
{
    public const string VaultClientId = "vault";
    public const string VaultSecret = "vault-secret-0123456789";
    public const string VaultRedirectUri = "https://vault.example/signin-oidc";
    public const string VaultDeviceClientId = "vault-tv";

    public StepUpFactory()
    {
        var seed = JsonNode.Parse(TestSeed.Json)!;
        seed["Clients"]!.AsArray().Add(new JsonObject
        {
            ["ClientId"] = VaultClientId,
            ["ClientSecret"] = VaultSecret,
            ["DisplayName"] = "Vault",
            ["ConsentType"] = "implicit",
            ["RequireMfa"] = true,
            ["RedirectUris"] = new JsonArray(VaultRedirectUri),
            ["GrantTypes"] = new JsonArray("authorization_code", "refresh_token"),
            ["Scopes"] = new JsonArray("openid", "profile", "offline_access"),
        });
        seed["Clients"]!.AsArray().Add(new JsonObject
        {
            ["ClientId"] = VaultDeviceClientId,
            ["ClientType"] = "public",
            ["DisplayName"] = "Vault on the TV",
            ["RequireMfa"] = true,
            ["GrantTypes"] = new JsonArray("urn:ietf:params:oauth:grant-type:device_code"),
            ["Scopes"] = new JsonArray("openid"),
        });
        File.WriteAllText(SeedPath, seed.ToJsonString());
    }
}
