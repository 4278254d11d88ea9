using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Authorization;

/// <summary>The test seed plus a scope that asks for <c>name</c> and <c>role</c> in access tokens, granted to the web client.</summary>
public sealed class TokenClaimsFactory : IdentityServerFactory
{
    public const string StaffScope = "staff";

    public TokenClaimsFactory()
    {
        var seed = JsonNode.Parse(TestSeed.Json)!;
        seed["Scopes"]!.AsArray().Add(new JsonObject
        {
            ["Name"] = StaffScope,
            ["Resources"] = new JsonArray(TestSeed.ApiClientId),
            ["AccessTokenClaims"] = new JsonArray("name", "role"),
        });
        var shop = seed["Clients"]!.AsArray().Single(static c => (string?)c!["ClientId"] == TestSeed.WebClientId)!;
        shop["Scopes"]!.AsArray().Add(StaffScope);
        File.WriteAllText(SeedPath, seed.ToJsonString());
    }
}

/// <summary>
/// Access tokens are readable JWTs sent to APIs: they name the user by sub only, unless a granted
/// scope lists a claim in its AccessTokenClaims. ID tokens follow OpenID Connect Core 5.4.
/// </summary>
public sealed class TokenClaimsTests(TokenClaimsFactory factory) : IClassFixture<TokenClaimsFactory>
{
    private static readonly string[] UserClaims = ["name", "preferred_username", "email", "email_verified", "role"];

    [Fact]
    public async Task AccessToken_OpenIdOnly_CarriesOnlyProtocolClaims()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid");

        var access = Jwt.Payload(tokens["access_token"]!);
        // oi_au_id, oi_prst and oi_tkn_id are OpenIddict's own: the grant's and the token's row ids
        // and the presenting client, which it needs to validate the token; no user data.
        Assert.Equal(
            ["client_id", "exp", "iat", "iss", "jti", "oi_au_id", "oi_prst", "oi_tkn_id", "scope", "sid", "sub"],
            access.EnumerateObject().Select(static p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(Jwt.Payload(tokens["id_token"]!).GetProperty("sub").GetString(), access.GetProperty("sub").GetString());
        Assert.Equal(TestSeed.WebClientId, access.GetProperty("client_id").GetString());
    }

    [Fact]
    public async Task AccessToken_ProfileAndEmailWithoutAccessTokenClaims_CarriesNoUserClaim()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid profile email orders");

        var access = Jwt.Payload(tokens["access_token"]!);
        AssertAbsent(access, UserClaims);
        Assert.Equal(TestSeed.ApiClientId, access.GetProperty("aud").GetString());
        // The ID token still has them: the user consented to show them to the client.
        var id = Jwt.Payload(tokens["id_token"]!);
        Assert.Equal("Alice Example", id.GetProperty("name").GetString());
        Assert.Equal(TestSeed.UserEmail, id.GetProperty("email").GetString());
    }

    [Fact]
    public async Task AccessToken_ScopeListingNameAndRoleGrantedWithProfile_CarriesNameAndRole()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync($"openid profile email {TokenClaimsFactory.StaffScope}");

        var access = Jwt.Payload(tokens["access_token"]!);
        Assert.Equal("Alice Example", access.GetProperty("name").GetString());
        Assert.Equal("admin", access.GetProperty("role").GetString());
        // Only what the scope lists: the rest of profile and email stays out.
        AssertAbsent(access, ["preferred_username", "email", "email_verified"]);
    }

    [Fact]
    public async Task AccessToken_ScopeListingNameGrantedWithoutProfile_CarriesRoleButNotName()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync($"openid {TokenClaimsFactory.StaffScope}");

        var access = Jwt.Payload(tokens["access_token"]!);
        Assert.Equal("admin", access.GetProperty("role").GetString());
        AssertAbsent(access, ["name", "preferred_username", "email", "email_verified"]);
    }

    [Theory]
    [InlineData("openid profile email offline_access orders", new string[0])]
    [InlineData("openid profile offline_access staff", new[] { "name", "role" })]
    public async Task AccessToken_AfterRefresh_FollowsTheSameRule(string scope, string[] expected)
    {
        using var client = factory.CreateOidcClient();
        var first = await client.CodeFlowAsync(scope);
        var refreshed = await client.RefreshAsync(first["refresh_token"]!);
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);

        foreach (var token in new[] { first["access_token"]!, refreshed["access_token"]! })
        {
            var access = Jwt.Payload(token);
            Assert.Equal(expected, UserClaims.Where(name => access.TryGetProperty(name, out _)));
        }
        Assert.Equal("Alice Example", Jwt.Payload(refreshed["id_token"]!).GetProperty("name").GetString());
    }

    [Fact]
    public async Task Introspection_TokenWithoutAccessTokenClaims_ShowsNoUserClaim()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid profile email orders");

        var introspection = await client.IntrospectAsync(tokens["access_token"]!);
        Assert.Equal(HttpStatusCode.OK, introspection.Status);
        Assert.Equal("true", introspection["active"]);
        Assert.NotNull(introspection["sub"]);
        AssertAbsent(introspection.Json, [.. UserClaims, "username"]);
    }

    [Fact]
    public async Task Introspection_TokenWithScopeListingNameAndRole_ShowsThem()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync($"openid profile {TokenClaimsFactory.StaffScope}");

        var introspection = await client.IntrospectAsync(tokens["access_token"]!);
        Assert.Equal("true", introspection["active"]);
        Assert.Equal("Alice Example", introspection["name"]);
        Assert.Equal("admin", introspection["role"]);
        AssertAbsent(introspection.Json, ["preferred_username", "email", "email_verified"]);
    }

    [Theory]
    [InlineData("openid", new string[0])]
    [InlineData("openid profile", new[] { "name", "preferred_username" })]
    [InlineData("openid email", new[] { "email", "email_verified" })]
    [InlineData("openid profile email staff", new[] { "name", "preferred_username", "email", "email_verified" })]
    public async Task IdToken_GrantedScopes_DecideTheUserClaims(string scope, string[] expected)
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync(scope);

        var id = Jwt.Payload(tokens["id_token"]!);
        // role never reaches the ID token, whatever a scope lists for access tokens.
        Assert.Equal(expected, UserClaims.Where(name => id.TryGetProperty(name, out _)));
        Assert.True(id.TryGetProperty("sub", out _));
        Assert.True(id.TryGetProperty("sid", out _));
    }

    [Fact]
    public async Task UserInfo_ScopeListingRole_ReturnsNoRole()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync($"openid profile {TokenClaimsFactory.StaffScope}");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tokens["access_token"]);
        using var message = await client.Http.SendAsync(request);
        var userInfo = await TokenResponse.ReadAsync(message);
        Assert.Equal(HttpStatusCode.OK, userInfo.Status);
        Assert.Equal("Alice Example", userInfo["name"]);
        AssertAbsent(userInfo.Json, ["role", "email"]);
    }

    private static void AssertAbsent(JsonElement json, IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            Assert.False(json.TryGetProperty(name, out _), $"'{name}' must not be present: {json}");
        }
    }
}
