using System.Diagnostics.Metrics;
using System.Net;
using IdentityServer.Observability;
using IdentityServer.Pruning;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using OpenIddict.Abstractions;
using OpenTelemetry.Metrics;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Tests.Observability;

public sealed class MetricsTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    private MetricCollector<long> Collect(string instrument)
    {
        // The instruments exist once the metrics service does.
        _ = factory.Services.GetRequiredService<IdentityServerMetrics>();
        return new MetricCollector<long>(factory.Services.GetRequiredService<IMeterFactory>(), IdentityServerMetrics.MeterName, instrument);
    }

    private static long Sum(MetricCollector<long> collector, params (string Tag, string Value)[] tags) =>
        collector.GetMeasurementSnapshot()
            .Where(m => tags.All(t => m.Tags.TryGetValue(t.Tag, out var value) && (value as string) == t.Value))
            .Sum(static m => m.Value);

    [Fact]
    public async Task TokensIssued_ClientCredentialsCodeAndRefresh_CountedByGrantAndTokenType()
    {
        using var issued = Collect("idp.tokens.issued");
        using var client = factory.CreateOidcClient();

        Assert.Equal(HttpStatusCode.OK, (await client.ClientCredentialsAsync()).Status);
        var code = await client.CodeFlowAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(code["refresh_token"]!)).Status);
        // A failed request issues nothing.
        Assert.Equal("invalid_grant", (await client.RefreshAsync("not-a-token")).Error);

        Assert.Equal(1, Sum(issued, ("grant_type", "client_credentials"), ("token_type", "access_token")));
        Assert.Equal(0, Sum(issued, ("grant_type", "client_credentials"), ("token_type", "refresh_token")));
        Assert.Equal(1, Sum(issued, ("grant_type", "authorization_code"), ("token_type", "access_token")));
        Assert.Equal(1, Sum(issued, ("grant_type", "authorization_code"), ("token_type", "refresh_token")));
        Assert.Equal(1, Sum(issued, ("grant_type", "authorization_code"), ("token_type", "id_token")));
        Assert.Equal(1, Sum(issued, ("grant_type", "refresh_token"), ("token_type", "access_token")));
        Assert.Equal(7, Sum(issued));
    }

    [Fact]
    public async Task ReuseDetected_RotatedRefreshTokenReplayed_CountedOnce()
    {
        using var reuse = Collect("idp.refresh_token.reuse_detected");
        using var client = factory.CreateOidcClient();
        var first = await client.CodeFlowAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(first["refresh_token"]!)).Status);
        Assert.Equal(0, Sum(reuse));

        Assert.Equal("invalid_grant", (await client.RefreshAsync(first["refresh_token"]!)).Error);

        Assert.Equal(1, Sum(reuse, ("grant_type", "refresh_token")));
        Assert.Equal(1, Sum(reuse));
    }

    [Fact]
    public async Task SignIns_GoodWrongAndLockedOut_CountedByResult()
    {
        using var signIns = Collect("idp.sign_ins");
        using (var good = factory.CreateOidcClient())
        {
            await good.SignInThroughPortalAsync();
        }
        Assert.Equal(1, Sum(signIns, ("result", "succeeded")));

        using var client = factory.CreateOidcClient();
        var page = await client.NavigateAsync("/Account/Login");
        // The fifth wrong password locks the account (Lockout.MaxFailedAccessAttempts).
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            using var response = await client.SubmitAsync(page, new Dictionary<string, string>
            {
                ["Input.Login"] = TestSeed.SecondUserName,
                ["Input.Password"] = "wrong-password-" + attempt,
            });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(4, Sum(signIns, ("result", "failed")));
        Assert.Equal(1, Sum(signIns, ("result", "locked_out")));
        Assert.Equal(1, Sum(signIns, ("result", "succeeded")));
    }

    [Fact]
    public async Task PruningRemoved_OldRevokedTokens_CountedByKind()
    {
        using var removed = Collect("idp.pruning.removed");
        var old = DateTimeOffset.UtcNow.AddDays(-30);
        await factory.WithScopeAsync(async services =>
        {
            var tokens = services.GetRequiredService<IOpenIddictTokenManager>();
            for (var i = 0; i < 3; i++)
            {
                await tokens.CreateAsync(new OpenIddictTokenDescriptor
                {
                    Subject = "user-1", Type = TokenTypeHints.RefreshToken, Status = Statuses.Revoked,
                    CreationDate = old, ExpirationDate = old.AddDays(1),
                });
            }
            return 0;
        });

        var result = await factory.WithScopeAsync(services => ActivatorUtilities.CreateInstance<PruningJob>(services).RunAsync(CancellationToken.None));

        Assert.True(result.Tokens >= 3, $"pruned {result.Tokens} tokens");
        Assert.Equal(result.Tokens, Sum(removed, ("kind", "tokens")));
        Assert.Equal(result.Authorizations, Sum(removed, ("kind", "authorizations")));
    }

    [Fact]
    public async Task ActiveSessions_SignIn_GaugeCountsItWithoutWaitingOnTheDatabase()
    {
        var gauge = factory.Services.GetRequiredService<ActiveSessionsGauge>();
        using var active = Collect("idp.sessions.active");
        var before = await gauge.RefreshAsync(CancellationToken.None);

        using (var browser = factory.CreateOidcClient())
        {
            await browser.SignInThroughPortalAsync();
        }
        Assert.Equal(before + 1, await gauge.RefreshAsync(CancellationToken.None));
        active.RecordObservableInstruments();
        Assert.Equal(before + 1, active.LastMeasurement?.Value);

        // A fresh gauge has no count yet: its first observation answers at once with none and
        // counts in the background; a later observation has the count.
        var fresh = ActivatorUtilities.CreateInstance<ActiveSessionsGauge>(factory.Services);
        Assert.Empty(fresh.Observe());
        var deadline = DateTime.UtcNow.AddSeconds(20);
        List<Measurement<long>> observed;
        while ((observed = [.. fresh.Observe()]).Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.Equal(before + 1, Assert.Single(observed).Value);
    }

    [Fact]
    public void Exporter_NotConfigured_IsNotRegistered() =>
        Assert.Null(factory.Services.GetService<MeterProvider>());
}
