using System.Net;
using System.Security.Claims;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Tests.Authorization;

/// <summary>The host runs with the default RefreshTokenReuseLeeway (none).</summary>
public sealed class RefreshTokenTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task Refresh_ValidToken_RotatesAndKeepsScopesAndClaims()
    {
        using var client = factory.CreateOidcClient();
        var first = await client.CodeFlowAsync();

        var second = await client.RefreshAsync(first["refresh_token"]!);
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.NotEqual(first["refresh_token"], second["refresh_token"]);
        Assert.Equal(first["scope"], second["scope"]);
        Assert.Equal("Alice Example", Jwt.Payload(second["id_token"]!).GetProperty("name").GetString());
        Assert.Equal("true", (await client.IntrospectAsync(second["access_token"]!))["active"]);
    }

    [Fact]
    public async Task Refresh_RotatedTokenPresentedAgain_RevokesTheWholeGrant()
    {
        using var client = factory.CreateOidcClient();
        var first = await client.CodeFlowAsync();
        var second = await client.RefreshAsync(first["refresh_token"]!);
        var third = await client.RefreshAsync(second["refresh_token"]!);
        Assert.Equal(HttpStatusCode.OK, third.Status);

        // An attacker replays the first refresh token.
        var replay = await client.RefreshAsync(first["refresh_token"]!);
        Assert.Equal(HttpStatusCode.BadRequest, replay.Status);
        Assert.Equal("invalid_grant", replay.Error);

        // Logged as a security event.
        Assert.Contains(factory.Logs.Entries, e => e.EventId.Id == 4001 && e.Level == Microsoft.Extensions.Logging.LogLevel.Warning
            && e.Message.Contains(TestSeed.WebClientId, StringComparison.Ordinal));

        // Everything issued under that grant is dead, the newest refresh token included.
        Assert.Equal("invalid_grant", (await client.RefreshAsync(third["refresh_token"]!)).Error);
        foreach (var token in new[] { first["access_token"]!, second["access_token"]!, third["access_token"]!, third["refresh_token"]! })
        {
            var introspection = await client.IntrospectAsync(token);
            Assert.Equal(HttpStatusCode.OK, introspection.Status);
            Assert.Equal("false", introspection["active"]);
        }
    }

    [Fact]
    public async Task Refresh_ReuseInOneSession_LeavesTheUsersOtherSessionsAlone()
    {
        // Two browsers: two sessions of the same user.
        using var phone = factory.CreateOidcClient();
        using var laptop = factory.CreateOidcClient();
        var stolen = await phone.CodeFlowAsync();
        var other = await laptop.CodeFlowAsync();
        await phone.RefreshAsync(stolen["refresh_token"]!);
        Assert.Equal("invalid_grant", (await phone.RefreshAsync(stolen["refresh_token"]!)).Error);

        Assert.Equal(HttpStatusCode.OK, (await laptop.RefreshAsync(other["refresh_token"]!)).Status);
    }

    [Fact]
    public async Task Refresh_TenParallelUsesOfOneToken_ExactlyOneSucceeds()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => client.RefreshAsync(tokens["refresh_token"]!)));

        Assert.Single(results, r => r.Status == HttpStatusCode.OK);
        Assert.All(results.Where(r => r.Status != HttpStatusCode.OK), r =>
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.Status);
            Assert.Equal("invalid_grant", r.Error);
        });
    }

    [Fact]
    public async Task Refresh_WrongClient_ReturnsInvalidGrant()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();
        var response = await client.TokenAsync(
            ("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"]!),
            ("client_id", TestSeed.ImplicitConsentClientId), ("client_secret", "portal-secret-0123456789"));
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_grant", response.Error);
    }

    [Fact]
    public async Task Refresh_TamperedToken_ReturnsInvalidGrant()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();
        var tampered = tokens["refresh_token"]![..^4] + "AAAA";
        var response = await client.RefreshAsync(tampered);
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_grant", response.Error);
    }

    [Fact]
    public async Task Refresh_WithoutOfflineAccess_NoRefreshTokenIsIssued()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync(scope: "openid profile");
        Assert.Null(tokens["refresh_token"]);
    }

    [Fact]
    public async Task Refresh_AfterPasswordChange_ReturnsInvalidGrant()
    {
        using var client = factory.CreateOidcClient();
        var redirect = await client.AuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.ImplicitConsentClientId, TestSeed.PortalRedirectUri, "openid offline_access", null),
            TestSeed.SecondUserName, TestSeed.SecondUserPassword);
        var tokens = await client.TokenAsync(("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]),
            ("redirect_uri", TestSeed.PortalRedirectUri), ("client_id", TestSeed.ImplicitConsentClientId), ("client_secret", "portal-secret-0123456789"));
        Assert.NotNull(tokens["refresh_token"]);

        Assert.True(await factory.WithScopeAsync(async services =>
        {
            var users = services.GetRequiredService<UserManager<ApplicationUser>>();
            var bob = await users.FindByNameAsync(TestSeed.SecondUserName);
            return (await users.ChangePasswordAsync(bob!, TestSeed.SecondUserPassword, "Bob-New-Passw0rd!")).Succeeded;
        }));

        var refresh = await client.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"]!),
            ("client_id", TestSeed.ImplicitConsentClientId), ("client_secret", "portal-secret-0123456789"));
        Assert.Equal(HttpStatusCode.BadRequest, refresh.Status);
        Assert.Equal("invalid_grant", refresh.Error);
    }
}

/// <summary>
/// With a reuse leeway configured, a replay of a just-rotated refresh token inside it continues the one
/// chain: the replay gets new tokens, and the branch the first use started is closed (its access
/// tokens revoked, its refresh tokens marked redeemed so that presenting one is caught as reuse).
/// </summary>
public sealed class RefreshTokenLeewayTests(RefreshTokenLeewayTests.Host factory) : IClassFixture<RefreshTokenLeewayTests.Host>
{
    public sealed class Host : IdentityServerFactory
    {
        public Host() => Settings["IdentityServer:RefreshTokenReuseLeeway"] = "00:00:30";
    }

    [Fact]
    public async Task Refresh_ReplayedWithinLeeway_ContinuesTheChainAndClosesTheFirstBranch()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();
        var first = await client.RefreshAsync(tokens["refresh_token"]!);
        Assert.Equal(HttpStatusCode.OK, first.Status);

        // The client retries (it never saw the first answer): it gets tokens.
        var replay = await client.RefreshAsync(tokens["refresh_token"]!);
        Assert.Equal(HttpStatusCode.OK, replay.Status);
        Assert.NotEqual(first["refresh_token"], replay["refresh_token"]);
        Assert.Contains(factory.Logs.Entries, e => e.EventId.Id == 4002);
        Assert.Contains(await EventTypesAsync(), static t => t == Audit.SecurityEventTypes.RefreshTokenReplayed);

        // The first answer's access token is dead; the replay's tokens are the chain and rotate on.
        Assert.Equal("false", (await client.IntrospectAsync(first["access_token"]!))["active"]);
        Assert.Equal("true", (await client.IntrospectAsync(replay["access_token"]!))["active"]);
        var next = await client.RefreshAsync(replay["refresh_token"]!);
        Assert.Equal(HttpStatusCode.OK, next.Status);
        Assert.Equal("true", (await client.IntrospectAsync(next["access_token"]!))["active"]);
    }

    [Fact]
    public async Task Refresh_FirstAnswerPresentedAfterAReplay_IsCaughtAsReuseAndEndsTheGrant()
    {
        // Whoever replayed (the client retrying, or a thief), the other holder's refresh token is
        // now a redeemed one: presenting it is reuse, and the whole grant dies.
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();
        var first = await client.RefreshAsync(tokens["refresh_token"]!);
        var replay = await client.RefreshAsync(tokens["refresh_token"]!);
        Assert.Equal(HttpStatusCode.OK, replay.Status);

        var reuse = await client.RefreshAsync(first["refresh_token"]!);
        Assert.Equal("invalid_grant", reuse.Error);
        Assert.Contains(factory.Logs.Entries, e => e.EventId.Id == 4001);
        Assert.Equal("invalid_grant", (await client.RefreshAsync(replay["refresh_token"]!)).Error);
        Assert.Equal("false", (await client.IntrospectAsync(replay["access_token"]!))["active"]);
    }

    [Fact]
    public async Task Refresh_ReplayedTwiceWithinLeeway_LeavesExactlyOneLiveRefreshToken()
    {
        using var client = factory.CreateOidcClient();
        var before = await ValidRefreshTokenIdsAsync();
        var tokens = await client.CodeFlowAsync();
        var answers = new List<TokenResponse>();
        for (var i = 0; i < 3; i++)
        {
            var answer = await client.RefreshAsync(tokens["refresh_token"]!);
            Assert.Equal(HttpStatusCode.OK, answer.Status);
            answers.Add(answer);
        }

        Assert.Single((await ValidRefreshTokenIdsAsync()).Except(before));
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(answers[2]["refresh_token"]!)).Status);
    }

    [Fact]
    public async Task Refresh_ReplayWhileTheFirstAnswerIsBeingRedeemed_StopsThatRedemptionFromIssuingTokens()
    {
        // R0 rotated to R1. Request A is redeeming R1 (its redemption written, its new tokens not yet:
        // they are written together with a second update of R1). Request B replays R0 meanwhile, having
        // read R1 before A's redemption. B must close R1 so that A's pending write fails: otherwise A
        // and B would each hold a live refresh token.
        using var client = factory.CreateOidcClient();
        var before = await ValidRefreshTokenIdsAsync();
        var tokens = await client.CodeFlowAsync();
        var r0 = Assert.Single((await ValidRefreshTokenIdsAsync()).Except(before));
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(tokens["refresh_token"]!)).Status);
        var r1 = Assert.Single((await ValidRefreshTokenIdsAsync()).Except(before));
        Assert.NotEqual(r0, r1);

        await using var b = factory.Services.CreateAsyncScope();
        var bTokens = b.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
        var r0Entry = (await bTokens.FindByIdAsync(r0))!;
        _ = await bTokens.FindByIdAsync(r1); // B has read R1 while it was valid

        await using var a = factory.Services.CreateAsyncScope();
        var aTokens = a.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
        var r1InA = (await aTokens.FindByIdAsync(r1))!;
        Assert.True(await aTokens.TryRedeemAsync(r1InA));

        var presented = new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim(Claims.Private.TokenId, r0),
            new Claim(Claims.Private.AuthorizationId, (await bTokens.GetAuthorizationIdAsync(r0Entry))!),
            new Claim(Claims.Subject, (await bTokens.GetSubjectAsync(r0Entry))!),
        ], "test"));
        Assert.True(await b.ServiceProvider.GetRequiredService<IdentityServer.Authorization.RefreshTokenRotation>().TryRedeemAsync(presented, CancellationToken.None));

        // A's pending write of R1 (what OpenIddict does when it issues A's tokens) now loses.
        Assert.False(await aTokens.TryRedeemAsync(r1InA));
    }

    private Task<List<string>> ValidRefreshTokenIdsAsync() => factory.WithScopeAsync(async services =>
        await services.GetRequiredService<ApplicationDbContext>().Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken>()
            .Where(static t => t.Type == TokenTypeIdentifiers.RefreshToken && t.Status == Statuses.Valid)
            .Select(static t => t.Id!).ToListAsync());

    private Task<List<string>> EventTypesAsync() => factory.WithScopeAsync(async services =>
        await services.GetRequiredService<ApplicationDbContext>().SecurityEvents.Select(static e => e.Type).ToListAsync());
}

/// <summary>Without configuration there is no leeway: any second use of a refresh token is reuse.</summary>
public sealed class RefreshTokenDefaultLeewayTests(RefreshTokenDefaultLeewayTests.Host factory) : IClassFixture<RefreshTokenDefaultLeewayTests.Host>
{
    public sealed class Host : IdentityServerFactory
    {
        public Host() => Settings.Remove("IdentityServer:RefreshTokenReuseLeeway");
    }

    [Fact]
    public void Leeway_Default_IsZeroInCodeAndConfiguration()
    {
        Assert.Equal(TimeSpan.Zero, new IdentityServer.Authorization.TokenOptions().RefreshTokenReuseLeeway);
        Assert.Equal(TimeSpan.Zero, factory.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<IdentityServer.Authorization.TokenOptions>>().Value.RefreshTokenReuseLeeway);
    }

    [Fact]
    public async Task Refresh_ImmediateReplayWithDefaults_IsReuseAndRevokesTheGrant()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();
        var first = await client.RefreshAsync(tokens["refresh_token"]!);
        Assert.Equal(HttpStatusCode.OK, first.Status);

        var replay = await client.RefreshAsync(tokens["refresh_token"]!);
        Assert.Equal(HttpStatusCode.BadRequest, replay.Status);
        Assert.Equal("invalid_grant", replay.Error);
        Assert.Equal("invalid_grant", (await client.RefreshAsync(first["refresh_token"]!)).Error);
        Assert.Equal("false", (await client.IntrospectAsync(first["access_token"]!))["active"]);
    }
}
