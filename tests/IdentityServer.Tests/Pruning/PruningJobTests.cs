using IdentityServer.Pruning;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using Quartz;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Tests.Pruning;

public sealed class PruningJobTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task Prune_OldDeadRows_AreRemovedAndLiveOrRecentOnesKept()
    {
        _ = factory.Server;
        var now = DateTimeOffset.UtcNow;
        var old = now.AddDays(-30);

        var ids = await factory.WithScopeAsync(async services =>
        {
            var tokens = services.GetRequiredService<IOpenIddictTokenManager>();
            var authorizations = services.GetRequiredService<IOpenIddictAuthorizationManager>();
            var applications = services.GetRequiredService<IOpenIddictApplicationManager>();
            var appId = await applications.GetIdAsync((await applications.FindByClientIdAsync(TestSeed.WebClientId))!);

            async Task<string> Token(string status, DateTimeOffset created, DateTimeOffset expires, string? authorizationId = null) =>
                (await tokens.GetIdAsync(await tokens.CreateAsync(new OpenIddictTokenDescriptor
                {
                    ApplicationId = appId, AuthorizationId = authorizationId, Subject = "user-1", Type = TokenTypeHints.RefreshToken,
                    Status = status, CreationDate = created, ExpirationDate = expires,
                })))!;

            async Task<string> Authorization(string status, string type) =>
                (await authorizations.GetIdAsync(await authorizations.CreateAsync(new OpenIddictAuthorizationDescriptor
                {
                    ApplicationId = appId, Subject = "user-1", Status = status, Type = type, CreationDate = old,
                })))!;

            var deadAuthorization = await Authorization(Statuses.Revoked, AuthorizationTypes.Permanent);
            var emptyAdHoc = await Authorization(Statuses.Valid, AuthorizationTypes.AdHoc);
            var liveAdHoc = await Authorization(Statuses.Valid, AuthorizationTypes.AdHoc);
            var consent = await Authorization(Statuses.Valid, AuthorizationTypes.Permanent);

            return new Dictionary<string, string>
            {
                ["revoked-old"] = await Token(Statuses.Revoked, old, now.AddDays(10)),
                ["redeemed-old"] = await Token(Statuses.Redeemed, old, old.AddDays(14)),
                ["expired-old"] = await Token(Statuses.Valid, old, old.AddDays(1)),
                ["revoked-recent"] = await Token(Statuses.Revoked, now.AddDays(-1), now.AddDays(10)),
                ["valid-old"] = await Token(Statuses.Valid, old, now.AddDays(10), liveAdHoc),
                ["auth-revoked"] = deadAuthorization,
                ["auth-adhoc-empty"] = emptyAdHoc,
                ["auth-adhoc-live"] = liveAdHoc,
                ["auth-consent"] = consent,
            };
        });

        var result = await factory.WithScopeAsync(services =>
            ActivatorUtilities.CreateInstance<PruningJob>(services).RunAsync(CancellationToken.None));

        Assert.True(result.Tokens >= 3, $"pruned {result.Tokens} tokens");
        Assert.Contains(factory.Logs.Entries, e => e.EventId.Id == 3001 && e.Message.Contains($"removed {result.Tokens} tokens, {result.Authorizations} authorizations", StringComparison.Ordinal));
        Assert.True(result.Authorizations >= 2, $"pruned {result.Authorizations} authorizations");
        await factory.WithScopeAsync(async services =>
        {
            var tokens = services.GetRequiredService<IOpenIddictTokenManager>();
            var authorizations = services.GetRequiredService<IOpenIddictAuthorizationManager>();
            Assert.Null(await tokens.FindByIdAsync(ids["revoked-old"]));
            Assert.Null(await tokens.FindByIdAsync(ids["redeemed-old"]));
            Assert.Null(await tokens.FindByIdAsync(ids["expired-old"]));
            Assert.NotNull(await tokens.FindByIdAsync(ids["revoked-recent"]));
            Assert.NotNull(await tokens.FindByIdAsync(ids["valid-old"]));
            Assert.Null(await authorizations.FindByIdAsync(ids["auth-revoked"]));
            Assert.Null(await authorizations.FindByIdAsync(ids["auth-adhoc-empty"]));
            Assert.NotNull(await authorizations.FindByIdAsync(ids["auth-adhoc-live"]));
            Assert.NotNull(await authorizations.FindByIdAsync(ids["auth-consent"]));
            return 0;
        });
    }

    [Fact]
    public async Task Prune_TokensFromARealFlow_KeepsThemWhileYoungerThanMinimumAge()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();
        await client.RevokeAsync(tokens["refresh_token"]!);

        await factory.WithScopeAsync(services => ActivatorUtilities.CreateInstance<PruningJob>(services).RunAsync(CancellationToken.None));

        // Revoked but created moments ago: kept, so a replay is still recognised.
        var refresh = await client.RefreshAsync(tokens["refresh_token"]!);
        Assert.Equal("invalid_grant", refresh.Error);
        Assert.Equal("true", (await client.IntrospectAsync(tokens["access_token"]!))["active"]);
    }

    [Fact]
    public async Task Scheduler_PruningJob_IsRegisteredWithConfiguredInterval()
    {
        _ = factory.Server;
        var scheduler = await factory.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var triggers = await scheduler.GetTriggersOfJob(PruningJob.Key);
        var trigger = Assert.IsAssignableFrom<ISimpleTrigger>(Assert.Single(triggers));
        Assert.Equal(TimeSpan.FromHours(1), trigger.RepeatInterval);
        Assert.True((await scheduler.GetJobDetail(PruningJob.Key))!.ConcurrentExecutionDisallowed);
    }
}

public sealed class PruningConfigurationTests
{
    [Fact]
    public void Startup_MinimumAgeShorterThanRefreshLifetime_IsRejected()
    {
        using var factory = new IdentityServerFactory();
        factory.Settings["Pruning:MinimumAge"] = "1.00:00:00";
        factory.Settings["IdentityServer:RefreshTokenLifetime"] = "14.00:00:00";
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("Pruning:MinimumAge must be at least IdentityServer:RefreshTokenLifetime", error.ToString(), StringComparison.Ordinal);
    }
}
