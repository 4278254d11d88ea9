using System.Net;
using System.Net.Http.Headers;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Authorization;

/// <summary>RFC 7009 2.1: a client revokes only tokens issued to it; anything else is answered like an invalid token.</summary>
public sealed class RevocationPolicyTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    // No API scope: the access token has no audience.
    private const string AudiencelessScopes = "openid offline_access";

    private const string PortalSecret = "portal-secret-0123456789";

    [Fact]
    public async Task Revocation_AudiencelessAccessTokenOfAnotherClient_Returns200AndTokenStillWorks()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync(AudiencelessScopes);

        var revoke = await client.RevokeAsync(tokens["access_token"]!, TestSeed.ImplicitConsentClientId, PortalSecret);

        AssertEmpty200(revoke);
        Assert.Equal(HttpStatusCode.OK, await UserInfoStatusAsync(client, tokens["access_token"]!));
    }

    [Fact]
    public async Task Revocation_AudiencelessAccessTokenOfAnotherClient_ByAPublicClient_Returns200AndTokenStillWorks()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync(AudiencelessScopes);

        var revoke = await client.PostAsync("/connect/revoke", [new("token", tokens["access_token"]!), new("client_id", TestSeed.PublicClientId)]);

        AssertEmpty200(revoke);
        Assert.Equal(HttpStatusCode.OK, await UserInfoStatusAsync(client, tokens["access_token"]!));
    }

    [Fact]
    public async Task Revocation_RefreshTokenOfAnotherClient_Returns200AndRefreshStillWorks()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync(AudiencelessScopes);

        AssertEmpty200(await client.RevokeAsync(tokens["refresh_token"]!, TestSeed.ImplicitConsentClientId, PortalSecret));
        AssertEmpty200(await client.PostAsync("/connect/revoke", [new("token", tokens["refresh_token"]!), new("client_id", TestSeed.PublicClientId)]));

        var refresh = await client.RefreshAsync(tokens["refresh_token"]!);
        Assert.Equal(HttpStatusCode.OK, refresh.Status);
    }

    [Fact]
    public async Task Revocation_AccessTokenByItsAudience_Returns200AndTokenStaysActive()
    {
        // The API the token is meant for may read it (introspection), but it was not issued to the API.
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid orders");

        AssertEmpty200(await client.RevokeAsync(tokens["access_token"]!, TestSeed.ApiClientId, TestSeed.ApiSecret));

        Assert.Equal("true", (await client.IntrospectAsync(tokens["access_token"]!))["active"]);
    }

    [Fact]
    public async Task Revocation_OwnAudiencelessAccessToken_IsRevoked()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync(AudiencelessScopes);

        AssertEmpty200(await client.RevokeAsync(tokens["access_token"]!));

        Assert.Equal(HttpStatusCode.Unauthorized, await UserInfoStatusAsync(client, tokens["access_token"]!));
    }

    [Fact]
    public async Task Revocation_PublicClientOwnTokens_AreRevoked()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await PublicClientCodeFlowAsync(client);

        AssertEmpty200(await client.PostAsync("/connect/revoke", [new("token", tokens["access_token"]!), new("client_id", TestSeed.PublicClientId)]));
        AssertEmpty200(await client.PostAsync("/connect/revoke", [new("token", tokens["refresh_token"]!), new("client_id", TestSeed.PublicClientId)]));

        Assert.Equal(HttpStatusCode.Unauthorized, await UserInfoStatusAsync(client, tokens["access_token"]!));
        var refresh = await client.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"]!), ("client_id", TestSeed.PublicClientId));
        Assert.Equal(HttpStatusCode.BadRequest, refresh.Status);
        Assert.Equal("invalid_grant", refresh.Error);
    }

    /// <summary>RFC 7009 2.2: the answer to a refused token is the answer to a revoked one, an empty 200.</summary>
    private static void AssertEmpty200(TokenResponse response)
    {
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(System.Text.Json.JsonValueKind.Object, response.Json.ValueKind);
        Assert.Empty(response.Json.EnumerateObject());
    }

    private static async Task<HttpStatusCode> UserInfoStatusAsync(OidcTestClient client, string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await client.Http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<TokenResponse> PublicClientCodeFlowAsync(OidcTestClient client)
    {
        var pkce = Pkce.Create();
        var redirect = await client.AuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.PublicClientId, TestSeed.PublicRedirectUri, AudiencelessScopes, pkce));
        var tokens = await client.TokenAsync(
            ("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]), ("redirect_uri", TestSeed.PublicRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", TestSeed.PublicClientId));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        return tokens;
    }
}
