using System.Net;
using IdentityServer.Data;
using IdentityServer.Tests.DeviceFlow;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Server.DataProtection;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Tests.Authorization;

/// <summary>
/// Tokens only this server reads are data-protection payloads under the shared key ring: refresh
/// tokens themselves, and the payloads stored behind authorization, device and user codes (those
/// reach clients as random reference handles). Tokens others read (access and ID tokens) stay JWTs
/// signed with the signing certificate.
/// </summary>
public sealed class ServerOnlyTokenFormatTests(ServerOnlyTokenFormatTests.Host factory) : IClassFixture<ServerOnlyTokenFormatTests.Host>
{
    /// <summary>The usual test server, where the web client may also introspect.</summary>
    public sealed class Host : IdentityServerFactory
    {
        public Host() => File.WriteAllText(SeedPath, TestSeed.Json.Replace(
            "\"DisplayName\": \"Shop\",", "\"DisplayName\": \"Shop\", \"Introspection\": true,", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CodeFlow_CodeAndRefreshTokens_AreDataProtectionPayloads_AccessAndIdTokensJwts()
    {
        using var client = factory.CreateOidcClient();
        var pkce = Pkce.Create();
        var redirect = await client.AuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid offline_access orders", pkce));
        var code = OidcTestClient.Query(redirect)["code"];
        Assert.DoesNotContain('.', code);
        await AssertStoredPayloadsAsync(factory, TokenTypeIdentifiers.Private.AuthorizationCode);

        var tokens = await client.TokenAsync(
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", TestSeed.WebRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        AssertDataProtectionPayload(tokens["refresh_token"]!);
        Assert.Equal("RS256", Jwt.Header(tokens["access_token"]!).GetProperty("alg").GetString());
        Assert.Equal("RS256", Jwt.Header(tokens["id_token"]!).GetProperty("alg").GetString());

        var rotated = await client.RefreshAsync(tokens["refresh_token"]!);
        Assert.Equal(HttpStatusCode.OK, rotated.Status);
        AssertDataProtectionPayload(rotated["refresh_token"]!);
        Assert.NotEqual(tokens["refresh_token"], rotated["refresh_token"]);
        var again = await client.RefreshAsync(rotated["refresh_token"]!);
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal(3, again["access_token"]!.Split('.').Length);
    }

    [Fact]
    public async Task Refresh_TokenFromBeforeAKeyRoll_IsAccepted_AndItsSuccessorUsesTheNewKey()
    {
        using var client = factory.CreateOidcClient();
        var before = await client.CodeFlowAsync();
        var oldKey = KeyId(before["refresh_token"]!);

        // A key roll: a new key, active now, becomes the default key of the ring.
        var keys = factory.Services.GetRequiredService<IKeyManager>();
        var now = DateTimeOffset.UtcNow;
        var newKey = keys.CreateNewKey(now, now.AddDays(90));
        Assert.NotEqual(oldKey, newKey.KeyId);
        await WaitForDefaultKeyAsync(factory, newKey.KeyId);

        var after = await client.RefreshAsync(before["refresh_token"]!);
        Assert.Equal(HttpStatusCode.OK, after.Status);
        Assert.Equal(newKey.KeyId, KeyId(after["refresh_token"]!));
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(after["refresh_token"]!)).Status);
    }

    [Theory]
    [InlineData("middle")]
    [InlineData("truncated")]
    [InlineData("header-only")]
    public async Task Refresh_TamperedDataProtectionToken_ReturnsInvalidGrant(string tampering)
    {
        using var client = factory.CreateOidcClient();
        var token = (await client.CodeFlowAsync())["refresh_token"]!;
        var middle = token.Length / 2;
        var tampered = tampering switch
        {
            "middle" => token[..middle] + (token[middle] == 'A' ? 'B' : 'A') + token[(middle + 1)..],
            "truncated" => token[..^10],
            _ => token[..30],
        };

        var response = await client.RefreshAsync(tampered);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_grant", response.Error);
        // The untouched token still works: the failed attempts were not taken as its use.
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(token)).Status);
    }

    [Fact]
    public async Task Refresh_AuthorizationCodePresentedAsRefreshToken_ReturnsInvalidGrant()
    {
        // Each token type has its own data-protection purpose: a code does not open as a refresh token.
        using var client = factory.CreateOidcClient();
        var redirect = await client.AuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid offline_access", Pkce.Create()));

        var response = await client.RefreshAsync(OidcTestClient.Query(redirect)["code"]);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_grant", response.Error);
    }

    [Fact]
    public async Task Introspection_RefreshTokenByItsClient_IsActive_AndInactiveAfterRevocation()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();
        var refreshToken = tokens["refresh_token"]!;

        var introspection = await client.IntrospectAsync(refreshToken, TestSeed.WebClientId, TestSeed.WebClientSecret);
        Assert.Equal(HttpStatusCode.OK, introspection.Status);
        Assert.Equal("true", introspection["active"]);
        Assert.Equal("refresh_token", introspection["token_usage"]);
        Assert.Equal(TestSeed.WebClientId, introspection["client_id"]);
        Assert.NotNull(introspection["sub"]);

        Assert.Equal(HttpStatusCode.OK, (await client.RevokeAsync(refreshToken)).Status);

        Assert.Equal("false", (await client.IntrospectAsync(refreshToken, TestSeed.WebClientId, TestSeed.WebClientSecret))["active"]);
        Assert.Equal("invalid_grant", (await client.RefreshAsync(refreshToken)).Error);
    }

    internal static void AssertDataProtectionPayload(string token)
    {
        // Neither a JWS (3 parts) nor a JWE (5 parts): one base64url string starting with the
        // data-protection magic header (09 F0 C9 F0), "CfDJ8" in base64url.
        Assert.DoesNotContain('.', token);
        Assert.StartsWith("CfDJ8", token, StringComparison.Ordinal);
    }

    /// <summary>Every stored token of a type carries a data-protection payload.</summary>
    internal static async Task AssertStoredPayloadsAsync(IdentityServerFactory host, string type)
    {
        var payloads = await host.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>()
            .Set<OpenIddictEntityFrameworkCoreToken>().Where(t => t.Type == type).Select(t => t.Payload).ToListAsync());
        Assert.NotEmpty(payloads);
        Assert.All(payloads, payload => AssertDataProtectionPayload(payload!));
    }

    /// <summary>
    /// The key ring is reloaded in the background (the previous ring serves meanwhile), so a new key
    /// becomes this node's default a moment after it is stored, as on every node after a real roll.
    /// </summary>
    private static async Task WaitForDefaultKeyAsync(Host host, Guid keyId)
    {
        var protector = host.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("tests.key-roll");
        for (var attempt = 0; attempt < 100 && KeyId(WebEncoders.Base64UrlEncode(protector.Protect([1]))) != keyId; attempt++)
        {
            await Task.Delay(100);
        }
        Assert.Equal(keyId, KeyId(WebEncoders.Base64UrlEncode(protector.Protect([1]))));
    }

    /// <summary>The id of the key that protected a data-protection payload (after the 4-byte magic header).</summary>
    private static Guid KeyId(string token) => new(WebEncoders.Base64UrlDecode(token).AsSpan(4, 16));
}

public sealed class DeviceCodeFormatTests(DeviceFlowFactory factory) : IClassFixture<DeviceFlowFactory>
{
    [Fact]
    public async Task DeviceFlow_DeviceCodeAndRefreshToken_AreDataProtectionPayloads_AndTheRefreshTokenWorks()
    {
        using var device = factory.CreateOidcClient();
        var start = await DeviceFlowTests.StartAsync(device);
        Assert.DoesNotContain('.', start["device_code"]!);
        await ServerOnlyTokenFormatTests.AssertStoredPayloadsAsync(factory, TokenTypeIdentifiers.Private.DeviceCode);
        await ServerOnlyTokenFormatTests.AssertStoredPayloadsAsync(factory, TokenTypeIdentifiers.Private.UserCode);

        using var browser = factory.CreateOidcClient();
        var consent = await DeviceFlowTests.OpenVerificationAsync(browser, start["verification_uri_complete"]!);
        using var approved = await browser.SubmitAsync(consent, button: "accept");
        var tokens = await DeviceFlowTests.PollAsync(device, start);
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        ServerOnlyTokenFormatTests.AssertDataProtectionPayload(tokens["refresh_token"]!);

        var refreshed = await device.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"]!),
            ("client_id", DeviceFlowFactory.DeviceClientId));
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        ServerOnlyTokenFormatTests.AssertDataProtectionPayload(refreshed["refresh_token"]!);
        Assert.Equal(3, refreshed["access_token"]!.Split('.').Length);
    }
}

/// <summary>An upgrade: refresh tokens issued as JWEs by the earlier format still work once the server issues data-protection tokens.</summary>
public sealed class ServerOnlyTokenUpgradeTests
{
    /// <summary>The server as it was: refresh tokens and codes as JWTs encrypted with the encryption certificate.</summary>
    private sealed class EarlierServer : IdentityServerFactory
    {
        protected override void ConfigureTestServices(IWebHostBuilder builder) =>
            builder.ConfigureTestServices(static services => services.Configure<OpenIddictServerDataProtectionOptions>(static options =>
            {
                options.PreferDefaultRefreshTokenFormat = true;
                options.PreferDefaultAuthorizationCodeFormat = true;
            }));
    }

    [Fact]
    public async Task Refresh_JweRefreshTokenFromBeforeTheUpgrade_IsAccepted_AndRotatedToADataProtectionToken()
    {
        using var earlier = new EarlierServer();
        using var earlierClient = earlier.CreateOidcClient();
        var tokens = await earlierClient.CodeFlowAsync();
        Assert.Equal(5, tokens["refresh_token"]!.Split('.').Length);

        using var upgraded = new IdentityServerFactory();
        upgraded.Settings["ConnectionStrings:Default"] = earlier.ConnectionString;
        upgraded.Settings["DataProtection:KeysPath"] = earlier.Settings["DataProtection:KeysPath"];
        using var client = upgraded.CreateOidcClient();

        var refreshed = await client.RefreshAsync(tokens["refresh_token"]!);

        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        ServerOnlyTokenFormatTests.AssertDataProtectionPayload(refreshed["refresh_token"]!);
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(refreshed["refresh_token"]!)).Status);
        // The JWE is still a stored token: its second use is reuse, as before.
        Assert.Equal("invalid_grant", (await client.RefreshAsync(tokens["refresh_token"]!)).Error);
    }
}
