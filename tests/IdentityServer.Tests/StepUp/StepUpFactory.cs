using System.Text.Json.Nodes;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.StepUp;

/// <summary>The test host with one more client, the vault, that requires two factors (<c>RequireMfa: true</c>) and shows no consent page.</summary>
public sealed class StepUpFactory : IdentityServerFactory
{
    public const string VaultClientId = "vault";
    public const string VaultSecret = "vault-secret-0123456789";
    public const string VaultRedirectUri = "https://vault.example/signin-oidc";

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
        File.WriteAllText(SeedPath, seed.ToJsonString());
    }
}
