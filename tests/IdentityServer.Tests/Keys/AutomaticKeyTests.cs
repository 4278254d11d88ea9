using System.Net;
using System.Text.Json;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Keys;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static IdentityServer.Tests.Admin.AdminTestHelpers;

namespace IdentityServer.Tests.Keys;

/// <summary>
/// A server in <c>Keys:Mode=Automatic</c> on a clock the test moves: keys rotate every 10 days and the
/// next one is published a day ahead. The rotation job and the minute's refresh are run by the test.
/// <paramref name="node"/> makes a second node of the same deployment: same database, same
/// data-protection keys, same clock.
/// </summary>
public sealed class AutomaticKeysFactory : IdentityServerFactory
{
    public AutomaticKeysFactory()
        : this(node: null)
    {
    }

    internal AutomaticKeysFactory(AutomaticKeysFactory? node)
    {
        Clock = node?.Clock ?? new FakeTimeProvider(DateTimeOffset.UtcNow);
        Settings["Keys:Mode"] = "Automatic";
        Settings["Keys:RotationInterval"] = "10.00:00:00";
        Settings["Keys:PublishAhead"] = "1.00:00:00";
        // Keys leave the JWKS as soon as their tokens have expired (the default keeps them 14 days).
        Settings["Keys:RetainFor"] = "00:00:00";
        if (node is not null)
        {
            foreach (var shared in new[] { "ConnectionStrings:Default", "Database:Provider", "DataProtection:KeysPath", "Seed:Path" })
            {
                Settings[shared] = node.Settings.GetValueOrDefault(shared);
            }
        }
    }

    public FakeTimeProvider Clock { get; }

    protected override void ConfigureTestServices(IWebHostBuilder builder) =>
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Clock);
            RemoveScheduler(services);
        });

    /// <summary>What the rotation job does when it fires.</summary>
    public Task RotateAsync() => WithScopeAsync(async services =>
    {
        await services.GetRequiredService<KeyRotation>().EnsureAsync(CancellationToken.None);
        return true;
    });

    /// <summary>What each node does every minute.</summary>
    public Task RefreshAsync() => Services.GetRequiredService<SigningKeyRing>().ReloadAsync(CancellationToken.None);

    public async Task<List<string>> PublishedKeyIdsAsync()
    {
        return [.. (await JwksAsync()).Keys.Select(static k => k.Kid)];
    }

    public async Task<JsonWebKeySet> JwksAsync()
    {
        using var client = CreateOidcClient();
        return new JsonWebKeySet(await client.Http.GetStringAsync(new Uri("/.well-known/jwks", UriKind.Relative)));
    }

    public async Task<string> AccessTokenAsync()
    {
        using var client = CreateOidcClient();
        var issued = await client.ClientCredentialsAsync();
        Assert.Equal(HttpStatusCode.OK, issued.Status);
        return issued["access_token"]!;
    }
}

/// <summary>
/// Keys that rotate themselves (issue: "Operate without restarts"): the next key is published a day
/// before it signs, clients that cached the JWKS before the switch validate the new key's tokens, a
/// token signed before the switch validates until it expires, then the old key leaves the JWKS and its
/// private key is erased.
/// </summary>
public sealed class AutomaticKeyRotationTests(AutomaticKeysFactory factory) : IClassFixture<AutomaticKeysFactory>
{
    [Fact]
    public async Task Rotation_NextPublishedADayAhead_AllSwitchAtItsTime_OldKeyStaysUntilItsTokensExpire()
    {
        var start = factory.Clock.GetUtcNow();
        var first = Assert.Single(await factory.PublishedKeyIdsAsync());
        Assert.Equal(first, Kid(await factory.AccessTokenAsync()));

        // A day before the switch is due: not yet, then the next key is published and does not sign yet.
        factory.Clock.Advance(TimeSpan.FromDays(9) - TimeSpan.FromMinutes(1));
        await factory.RotateAsync();
        Assert.Equal([first], await factory.PublishedKeyIdsAsync());
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await factory.RotateAsync();
        var published = await factory.PublishedKeyIdsAsync();
        Assert.Equal(2, published.Count);
        var second = published.Single(k => k != first);
        Assert.Equal(first, Kid(await factory.AccessTokenAsync()));
        // What a client caches now, a day before the switch.
        var cachedJwks = await factory.JwksAsync();

        factory.Clock.SetUtcNow(start + TimeSpan.FromDays(10) - TimeSpan.FromSeconds(1));
        var beforeSwitch = await factory.AccessTokenAsync();
        Assert.Equal(first, Kid(beforeSwitch));
        factory.Clock.Advance(TimeSpan.FromSeconds(2));
        var afterSwitch = await factory.AccessTokenAsync();

        Assert.Equal(second, Kid(afterSwitch));
        Assert.True((await ValidateAsync(afterSwitch, cachedJwks)).IsValid);
        using var client = factory.CreateOidcClient();
        Assert.Equal("true", (await client.IntrospectAsync(beforeSwitch))["active"]);
        Assert.Contains(first, await factory.PublishedKeyIdsAsync());

        // Once every token the old key signed has expired (ID tokens: 20 minutes, and 5 of skew).
        factory.Clock.Advance(TimeSpan.FromMinutes(24));
        await factory.RefreshAsync();
        Assert.Contains(first, await factory.PublishedKeyIdsAsync());
        factory.Clock.Advance(TimeSpan.FromMinutes(2));
        await factory.RefreshAsync();
        await factory.RotateAsync();
        Assert.Equal([second], await factory.PublishedKeyIdsAsync());
        var rows = await factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>().SigningKeys.AsNoTracking().ToListAsync());
        Assert.Equal("", rows.Single(r => r.Id == first).ProtectedKey);
        Assert.NotEqual("", rows.Single(r => r.Id == second).ProtectedKey);
        Assert.Equal(2, await factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>().SecurityEvents
            .CountAsync(static e => e.Type == SecurityEventTypes.SigningKeyCreated)));
    }

    internal static string Kid(string token) => Jwt.Header(token).GetProperty("kid").GetString()!;

    internal static Task<TokenValidationResult> ValidateAsync(string token, JsonWebKeySet jwks) =>
        new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
        });
}

/// <summary>
/// A compromised key revoked through the admin API: out of the JWKS at once, tokens it signed no longer
/// validate, and a new key signs at once. "Rotate now" publishes the next key a day ahead.
/// </summary>
public sealed class AutomaticKeyRevocationTests(AutomaticKeysFactory factory) : IClassFixture<AutomaticKeysFactory>
{
    [Fact]
    public async Task Revoke_SigningKey_GoneAtOnce_ItsTokensRefused_ANewKeySigns_RotateNowPublishesADayAhead()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);
        var compromised = Assert.Single(await factory.PublishedKeyIdsAsync());
        var signed = await factory.AccessTokenAsync();

        using var revoked = await SendJsonAsync(admin, token, HttpMethod.Post, $"/api/admin/keys/{compromised}/revoke", null);

        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        var keys = (await JsonAsync(revoked)).GetProperty("keys").EnumerateArray().ToList();
        Assert.Equal("revoked", keys.Single(k => k.GetProperty("id").GetString() == compromised).GetProperty("state").GetString());
        var replacement = keys.Single(k => k.GetProperty("state").GetString() == "current").GetProperty("id").GetString()!;
        Assert.Equal([replacement], await factory.PublishedKeyIdsAsync());
        Assert.Equal("false", (await admin.IntrospectAsync(signed))["active"]);
        Assert.Equal(replacement, AutomaticKeyRotationTests.Kid(await factory.AccessTokenAsync()));
        using var again = await SendJsonAsync(admin, await AdminTokenAsync(admin), HttpMethod.Post, $"/api/admin/keys/{compromised}/revoke", null);
        Assert.True(again.StatusCode == HttpStatusCode.Conflict, again.Headers.WwwAuthenticate.ToString());
        using var unknown = await SendJsonAsync(admin, await AdminTokenAsync(admin), HttpMethod.Post, "/api/admin/keys/nothing/revoke", null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        using var rotated = await SendJsonAsync(admin, await AdminTokenAsync(admin), HttpMethod.Post, "/api/admin/keys/rotate", null);

        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var next = (await JsonAsync(rotated)).GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("state").GetString() == "next");
        Assert.Equal(factory.Clock.GetUtcNow() + TimeSpan.FromDays(1), next.GetProperty("activatesAt").GetDateTimeOffset());
        Assert.Contains(next.GetProperty("id").GetString(), await factory.PublishedKeyIdsAsync());
        Assert.Equal(replacement, AutomaticKeyRotationTests.Kid(await factory.AccessTokenAsync()));
        using var twice = await SendJsonAsync(admin, await AdminTokenAsync(admin), HttpMethod.Post, "/api/admin/keys/rotate", null);
        Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        // The next key revoked before it signs: the signing key goes on signing, with no gap.
        using var nextRevoked = await SendJsonAsync(admin, await AdminTokenAsync(admin), HttpMethod.Post, $"/api/admin/keys/{next.GetProperty("id").GetString()}/revoke", null);
        Assert.Equal(HttpStatusCode.OK, nextRevoked.StatusCode);
        factory.Clock.Advance(TimeSpan.FromDays(2));
        await factory.RefreshAsync();
        Assert.Equal(replacement, AutomaticKeyRotationTests.Kid(await factory.AccessTokenAsync()));
        var events = await factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>().SecurityEvents
            .Where(static e => e.Type == SecurityEventTypes.SigningKeyRevoked).Select(static e => new { e.Detail, e.Actor }).ToListAsync());
        Assert.Equal($"{compromised} (RS256)", events[0].Detail);
        Assert.Equal(2, events.Count);
        Assert.All(events, static e => Assert.Equal(TestSeed.AdminClientId, e.Actor));
        Assert.DoesNotContain("protectedKey", await (await SendJsonAsync(admin, await AdminTokenAsync(admin), HttpMethod.Get, "/api/admin/keys", null)).Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>
/// Two nodes of one deployment (one database, one clock): the second starting finds the first's key, and
/// after the switch both sign with the new key, never one with each.
/// </summary>
public sealed class AutomaticKeysTwoNodeTests
{
    [Fact]
    public async Task TwoNodes_ShareTheKeys_AndSwitchTogether()
    {
        using var first = new AutomaticKeysFactory();
        var start = first.Clock.GetUtcNow();
        var initial = AutomaticKeyRotationTests.Kid(await first.AccessTokenAsync());
        using var second = new AutomaticKeysFactory(first);
        Assert.Equal(initial, AutomaticKeyRotationTests.Kid(await second.AccessTokenAsync()));

        first.Clock.SetUtcNow(start + TimeSpan.FromDays(9));
        await first.RotateAsync();
        await second.RotateAsync();
        await second.RefreshAsync();
        Assert.Equal(await first.PublishedKeyIdsAsync(), await second.PublishedKeyIdsAsync());
        Assert.Equal(2, (await second.PublishedKeyIdsAsync()).Count);

        first.Clock.SetUtcNow(start + TimeSpan.FromDays(10) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(initial, AutomaticKeyRotationTests.Kid(await first.AccessTokenAsync()));
        Assert.Equal(initial, AutomaticKeyRotationTests.Kid(await second.AccessTokenAsync()));
        first.Clock.SetUtcNow(start + TimeSpan.FromDays(10));
        var switched = AutomaticKeyRotationTests.Kid(await first.AccessTokenAsync());
        Assert.NotEqual(initial, switched);
        Assert.Equal(switched, AutomaticKeyRotationTests.Kid(await second.AccessTokenAsync()));
    }
}

/// <summary>With certificates (Keys:Mode=Certificates, what configuring Certificates:Signing implies), the API says so and changes nothing.</summary>
public sealed class CertificateModeKeysTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task CertificatesMode_KeysApi_SaysSo_RotateAndRevokeRefused()
    {
        using var admin = factory.CreateOidcClient();
        var token = await AdminTokenAsync(admin);

        using var list = await SendJsonAsync(admin, token, HttpMethod.Get, "/api/admin/keys", null);
        using var rotate = await SendJsonAsync(admin, token, HttpMethod.Post, "/api/admin/keys/rotate", null);

        var answer = await JsonAsync(list);
        Assert.Equal("certificates", answer.GetProperty("mode").GetString());
        Assert.Equal(0, answer.GetProperty("keys").GetArrayLength());
        Assert.Equal(HttpStatusCode.Conflict, rotate.StatusCode);
        Assert.Contains("Keys:Mode=Certificates", (await JsonAsync(rotate)).GetProperty("title").GetString(), StringComparison.Ordinal);
    }
}
