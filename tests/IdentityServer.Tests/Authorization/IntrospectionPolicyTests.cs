using System.Net;
using System.Text.Json;
using IdentityServer.Authorization;
using IdentityServer.Seeding;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Tests.Authorization;

/// <summary>
/// RFC 7662 2.1 and 4: only authenticated clients introspect, and a token is described only to the
/// resource server it is meant for (its audience) or to the client it was issued to.
/// </summary>
public sealed class IntrospectionPolicyTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task Introspection_AudiencelessAccessToken_ReturnsOnlyActiveFalseToResourceServer()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid profile");

        AssertOnlyInactive(await client.IntrospectAsync(tokens["access_token"]!));
    }

    [Fact]
    public async Task Introspection_AudiencelessMachineToken_ReturnsOnlyActiveFalseToResourceServer()
    {
        using var client = factory.CreateOidcClient();
        var token = await client.TokenAsync(("grant_type", "client_credentials"), ("client_id", TestSeed.AdminClientId), ("client_secret", TestSeed.AdminClientSecret));
        Assert.Equal(HttpStatusCode.OK, token.Status);

        AssertOnlyInactive(await client.IntrospectAsync(token["access_token"]!));
    }

    [Fact]
    public async Task Introspection_AccessTokenForAnotherAudience_ReturnsOnlyActiveFalse()
    {
        using var client = factory.CreateOidcClient();
        var token = await client.TokenAsync(("grant_type", "client_credentials"), ("client_id", TestSeed.AdminClientId),
            ("client_secret", TestSeed.AdminClientSecret), ("scope", global::IdentityServer.Admin.AdminScope.Name));
        Assert.Equal(HttpStatusCode.OK, token.Status);

        AssertOnlyInactive(await client.IntrospectAsync(token["access_token"]!));
    }

    [Fact]
    public async Task Introspection_RefreshTokenOfAnotherClient_ReturnsOnlyActiveFalse()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();

        AssertOnlyInactive(await client.IntrospectAsync(tokens["refresh_token"]!));
    }

    [Fact]
    public async Task Introspection_AccessTokenWithCallersAudience_ReturnsActiveWithClaims()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid orders");

        var response = await client.IntrospectAsync(tokens["access_token"]!);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("true", response["active"]);
        Assert.Equal(TestSeed.ApiClientId, response["aud"]);
        Assert.Equal(TestSeed.WebClientId, response["client_id"]);
        Assert.Equal(Jwt.Payload(tokens["id_token"]!).GetProperty("sub").GetString(), response["sub"]);
        Assert.Contains(TestSeed.ApiScope, response["scope"]!.Split(' '));
    }

    [Fact]
    public async Task Introspection_ClientIntrospectsTokenIssuedToIt_ReturnsActive()
    {
        // Allowed on purpose (RFC 7662 leaves it to policy): the client the token was issued to already holds it.
        await GrantAsync(TestSeed.WorkerClientId, Permissions.Endpoints.Introspection);
        using var client = factory.CreateOidcClient();
        var token = await client.TokenAsync(("grant_type", "client_credentials"), ("client_id", TestSeed.WorkerClientId), ("client_secret", TestSeed.WorkerSecret));
        Assert.Equal(HttpStatusCode.OK, token.Status);

        var response = await client.IntrospectAsync(token["access_token"]!, TestSeed.WorkerClientId, TestSeed.WorkerSecret);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("true", response["active"]);
        Assert.Equal(TestSeed.WorkerClientId, response["client_id"]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Introspection_PublicClientWithThePermission_Returns401InvalidClient(bool validToken)
    {
        // The seed refuses this; a client given the permission some other way is still refused.
        await GrantAsync(TestSeed.PublicClientId, Permissions.Endpoints.Introspection);
        using var client = factory.CreateOidcClient();
        var token = validToken ? (await client.CodeFlowAsync("openid profile"))["access_token"]! : "not-a-token";

        var response = await client.PostAsync("/connect/introspect", [new("token", token), new("client_id", TestSeed.PublicClientId)]);

        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("invalid_client", response.Error);
        Assert.Null(response["active"]);
        Assert.Null(response["sub"]);
    }

    [Fact]
    public void Seed_PublicClientWithIntrospection_IsRefusedNamingTheClientAndWhy()
    {
        var document = new SeedDocument
        {
            Clients = [new SeedClient { ClientId = "spa", ClientType = ClientTypes.Public, Introspection = true }],
        };

        var error = Assert.Throws<SeedException>(() => SeedLoader.Validate(document, "seed.json"));

        Assert.Contains("Clients[0] ('spa'): a public client cannot have Introspection; it has no secret to authenticate", error.Message, StringComparison.Ordinal);
    }

    /// <summary>RFC 7662 2.2: an inactive token is described by <c>active: false</c> and nothing else.</summary>
    private static void AssertOnlyInactive(TokenResponse response)
    {
        Assert.Equal(HttpStatusCode.OK, response.Status);
        var member = Assert.Single(response.Json.EnumerateObject());
        Assert.Equal(("active", JsonValueKind.False), (member.Name, member.Value.ValueKind));
    }

    private Task<int> GrantAsync(string clientId, string permission) => factory.WithScopeAsync(async services =>
    {
        using var _ = LookupCache.Bypass();
        var applications = services.GetRequiredService<IOpenIddictApplicationManager>();
        var application = await applications.FindByClientIdAsync(clientId) ?? throw new InvalidOperationException(clientId);
        var descriptor = new OpenIddictApplicationDescriptor();
        await applications.PopulateAsync(descriptor, application);
        if (descriptor.Permissions.Add(permission))
        {
            await applications.PopulateAsync(application, descriptor);
            await applications.UpdateAsync(application);
        }
        return 0;
    });
}
