using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using IdentityServer.Seeding;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using static IdentityServer.Tests.Admin.AdminTestHelpers;

namespace IdentityServer.Tests.Authorization;

/// <summary>Clients on loopback may publish keys here; key sets are fetched again at once on an unknown kid.</summary>
public sealed class JwksUriFactory : IdentityServerFactory
{
    public static readonly string[] Signers = ["remote-signer", "big-signer", "slow-signer", "redirect-signer", "broken-signer", "leaving-signer"];

    public JwksUriFactory()
    {
        for (var i = 0; i < Signers.Length; i++)
        {
            Settings[$"BackchannelLogout:AllowPrivateNetworks:{i}"] = Signers[i];
        }
        Settings["ClientKeySets:MinRefreshInterval"] = "00:00:01";
        Settings["ClientKeySets:Timeout"] = "00:00:02";
        Settings["ClientKeySets:MaxBytes"] = "4096";
    }
}

/// <summary>
/// private_key_jwt with a client's <c>jwks_uri</c> over real HTTP: the set is fetched from the client's own
/// server and cached; a rotated key is fetched on first use; an answer too large, too slow, redirected or not
/// a set of public keys authenticates nobody; a <c>jwks_uri</c> on an internal address is refused for a client
/// not allowed there, and a metadata address for every client.
/// </summary>
public sealed class JwksUriTests(JwksUriFactory factory) : IClassFixture<JwksUriFactory>, IAsyncLifetime
{
    private const string Issuer = "https://localhost/";
    private readonly KeyServer keys = new();

    public Task InitializeAsync() => keys.StartAsync();

    public Task DisposeAsync() => keys.DisposeAsync().AsTask();

    [Fact]
    public async Task KeysFromTheUri_Authenticate_ARotatedKeyIsFetchedOnFirstUse_TheOldOneStops()
    {
        using var first = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var second = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        keys.Serve("/remote", KeySet(first, "k1"));
        using var http = factory.CreateOidcClient();
        var created = await RegisterAsync(http, "remote-signer", keys.Url("/remote"));
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.False(created.Json.TryGetProperty("clientSecret", out var secret) && secret.ValueKind == JsonValueKind.String);

        var before = await TokenAsync(http, "remote-signer", first, "k1");
        keys.Serve("/remote", KeySet(second, "k2"));
        // No more than one fetch a second (ClientKeySets:MinRefreshInterval here).
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        var rotated = await TokenAsync(http, "remote-signer", second, "k2");
        var old = await TokenAsync(http, "remote-signer", first, "k1");

        Assert.Equal(HttpStatusCode.OK, before.Status);
        Assert.Equal(HttpStatusCode.OK, rotated.Status);
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (old.Status, old.Error));
    }

    [Fact]
    public async Task KeysWithdrawn_TheDefiniteAnswerDropsTheCachedSet()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var unknown = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        keys.Serve("/leaving", KeySet(key, "k1"));
        using var http = factory.CreateOidcClient();
        Assert.Equal(HttpStatusCode.Created, (await RegisterAsync(http, "leaving-signer", keys.Url("/leaving"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await TokenAsync(http, "leaving-signer", key, "k1")).Status);

        // The client takes its keys down; an assertion with a kid the cached set lacks makes the server ask again.
        keys.Gone("/leaving");
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        Assert.Equal(HttpStatusCode.Unauthorized, (await TokenAsync(http, "leaving-signer", unknown, "k9")).Status);
        var withdrawn = await TokenAsync(http, "leaving-signer", key, "k1");

        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (withdrawn.Status, withdrawn.Error));
    }

    [Fact]
    public async Task AnswerTooLarge_TooSlow_Redirected_OrWithPrivateKeys_AuthenticatesNobody()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var set = KeySet(key, "k1");
        keys.Serve("/big", set.Replace("{", "{\"padding\":\"" + new string('x', 8000) + "\",", StringComparison.Ordinal));
        keys.Serve("/slow", set, delay: TimeSpan.FromSeconds(8));
        keys.Redirect("/moved", "/good");
        keys.Serve("/good", set);
        keys.Serve("/private", KeySet(key, "k1", withPrivate: true));
        using var http = factory.CreateOidcClient();

        foreach (var (client, path) in new[] { ("big-signer", "/big"), ("slow-signer", "/slow"), ("redirect-signer", "/moved"), ("broken-signer", "/private") })
        {
            Assert.Equal(HttpStatusCode.Created, (await RegisterAsync(http, client, keys.Url(path))).Status);
            var response = await TokenAsync(http, client, key, "k1");
            Assert.True((HttpStatusCode.Unauthorized, "invalid_client") == (response.Status, response.Error), $"{client}: {(int)response.Status} {response.Json}");
        }
    }

    [Fact]
    public async Task InternalAddress_RefusedForAClientNotAllowedThere_MetadataForEveryone()
    {
        using var http = factory.CreateOidcClient();

        var outsider = await RegisterAsync(http, "outsider", keys.Url("/remote"));
        var metadata = await RegisterAsync(http, "remote-signer-2", "http://169.254.169.254/latest/keys");

        Assert.Equal(HttpStatusCode.BadRequest, outsider.Status);
        Assert.Contains("loopback", outsider.Json.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, metadata.Status);
    }

    /// <summary>
    /// The address rule holds when connecting, not only at registration: a name that resolves to an internal
    /// address by the time the set is fetched (DNS rebinding) is refused by the fetching client itself, unless
    /// the client is allowed private networks; a metadata address is refused for every client.
    /// </summary>
    [Fact]
    public async Task FetchingClient_ChecksTheAddressTheNameResolvesToWhenConnecting()
    {
        var clients = factory.Services.GetRequiredService<IHttpClientFactory>();
        keys.Serve("/rebound", """{ "keys": [] }""");
        var rebound = new UriBuilder(keys.Url("/rebound")) { Host = "localhost" }.Uri;

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => clients.CreateClient(IdentityServer.Authorization.RemoteKeySets.HttpClientName).GetAsync(rebound));
        using var allowed = await clients.CreateClient(IdentityServer.Authorization.RemoteKeySets.PrivateNetworksHttpClientName).GetAsync(rebound);
        var metadata = await Assert.ThrowsAsync<HttpRequestException>(() =>
            clients.CreateClient(IdentityServer.Authorization.RemoteKeySets.PrivateNetworksHttpClientName).GetAsync(new Uri("http://169.254.169.254/latest/keys")));

        var reason = Assert.IsType<IdentityServer.BackchannelLogout.BackchannelLogoutTargetRefusedException>(refused.InnerException);
        Assert.StartsWith("localhost resolves to ", reason.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.IsType<IdentityServer.BackchannelLogout.BackchannelLogoutTargetRefusedException>(metadata.InnerException);
    }

    [Fact]
    public void Seed_KeysInlineAndByUri_OrOnAPublicClient_Refused_UriRoundTrips()
    {
        var path = Path.Combine(factory.Folder, "jwks-uri.json");
        File.WriteAllText(path, """
            { "Clients": [
              { "ClientId": "both", "JsonWebKeySetUri": "https://keys.example/jwks", "JsonWebKeySet": { "keys": [] }, "GrantTypes": ["client_credentials"] },
              { "ClientId": "spa-uri", "ClientType": "public", "JsonWebKeySetUri": "https://keys.example/jwks", "GrantTypes": ["authorization_code"],
                "RedirectUris": ["http://127.0.0.1:7890/callback"] }
            ] }
            """);
        var error = Assert.Throws<SeedException>(() => SeedLoader.Load(path));
        Assert.Contains("Clients[0] ('both'): give the keys inline (JsonWebKeySet) or by URL (JsonWebKeySetUri), not both", error.Message, StringComparison.Ordinal);
        Assert.Contains("Clients[1] ('spa-uri'): a public client cannot have a JsonWebKeySetUri", error.Message, StringComparison.Ordinal);

        var seed = new SeedClient { ClientId = "remote", GrantTypes = ["client_credentials"], JsonWebKeySetUri = "https://keys.example/jwks" };
        Assert.Equal("https://keys.example/jwks", Seeder.FromDescriptor(Seeder.ToDescriptor(seed)).JsonWebKeySetUri);
    }

    private static async Task<TokenResponse> RegisterAsync(OidcTestClient http, string clientId, string uri)
    {
        var admin = await AdminTokenAsync(http);
        using var created = await SendJsonAsync(http, admin, HttpMethod.Post, "/api/admin/clients",
            $$"""{ "clientId": "{{clientId}}", "grantTypes": ["client_credentials"], "scopes": ["{{TestSeed.ApiScope}}"], "jsonWebKeySetUri": "{{uri}}" }""");
        return await TokenResponse.ReadAsync(created);
    }

    private static Task<TokenResponse> TokenAsync(OidcTestClient http, string clientId, ECDsa key, string kid) => http.TokenAsync(
        ("grant_type", "client_credentials"), ("scope", TestSeed.ApiScope), ("client_id", clientId),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", PrivateKeyJwtTests.Assertion(clientId, new SigningCredentials(new ECDsaSecurityKey(key) { KeyId = kid }, SecurityAlgorithms.EcdsaSha256), Issuer)));

    private static string KeySet(ECDsa key, string kid, bool withPrivate = false)
    {
        var parameters = key.ExportParameters(withPrivate);
        var jwk = new Dictionary<string, string>
        {
            ["kty"] = "EC", ["kid"] = kid, ["crv"] = "P-256", ["x"] = Base64UrlEncoder.Encode(parameters.Q.X), ["y"] = Base64UrlEncoder.Encode(parameters.Q.Y),
        };
        if (withPrivate)
        {
            jwk["d"] = Base64UrlEncoder.Encode(parameters.D);
        }
        return JsonSerializer.Serialize(new { keys = new[] { jwk } });
    }

    /// <summary>A client's own web server, on loopback, publishing (or failing to publish) its keys.</summary>
    private sealed class KeyServer : IAsyncDisposable
    {
        private readonly Dictionary<string, (string Body, TimeSpan Delay, string? Location)> routes = [];
        private WebApplication? app;

        public string Url(string path) => app!.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + path;

        public void Serve(string path, string body, TimeSpan delay = default)
        {
            lock (routes)
            {
                routes[path] = (body, delay, null);
            }
        }

        public void Gone(string path)
        {
            lock (routes)
            {
                routes.Remove(path);
            }
        }

        public void Redirect(string path, string to)
        {
            lock (routes)
            {
                routes[path] = ("", TimeSpan.Zero, to);
            }
        }

        public async Task StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
            app = builder.Build();
            app.Run(async context =>
            {
                (string Body, TimeSpan Delay, string? Location) route;
                lock (routes)
                {
                    if (!routes.TryGetValue(context.Request.Path.Value ?? "", out route))
                    {
                        context.Response.StatusCode = StatusCodes.Status404NotFound;
                        return;
                    }
                }
                if (route.Location is not null)
                {
                    context.Response.Redirect(route.Location);
                    return;
                }
                await Task.Delay(route.Delay, context.RequestAborted);
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(route.Body, context.RequestAborted);
            });
            await app.StartAsync();
        }

        public async ValueTask DisposeAsync()
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }
        }
    }
}
