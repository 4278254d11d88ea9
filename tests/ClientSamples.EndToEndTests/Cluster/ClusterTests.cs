using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using ClientSamples.EndToEndTests.Infrastructure;

namespace ClientSamples.EndToEndTests.Cluster;

/// <summary>
/// Two nodes behind nginx behave as one identity provider: a browser's flow may cross nodes at every
/// request, what one node issued the other accepts, and what one node ended or revoked the other refuses.
/// "On node A, then on node B" is exact: the tests call the nodes directly, as nginx does.
/// </summary>
public sealed class ClusterTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    [ClusterFact]
    public Task SignIn_ThroughRoundRobin_BothNodesServeTheFlowAndTheCodeRedeems() => cluster.WithLogsOnFailureAsync(async () =>
    {
        await using var context = await cluster.NewBrowserContextAsync();
        var flow = await BrowserSignIn.RunAsync(await context.NewPageAsync(), cluster.Issuer);
        var tokens = await cluster.Proxy.RedeemCodeAsync(flow);

        Assert.True(await cluster.Proxy.IsActiveAsync(tokens.AccessToken));
        // Authorization request, sign-in page, sign-in, authorization request with the new cookie, token
        // request: round-robin hands consecutive requests to different nodes.
        var served = flow.Served.Select(r => cluster.NodeAt(r.Upstream)).Append(cluster.NodeAt(tokens.Upstream)).ToList();
        Assert.True(cluster.Nodes.All(served.Contains), $"Not every node served part of the flow:\n{string.Join('\n', flow.Served)}\ntoken request: {tokens.Upstream}");
        Assert.Contains(flow.Served, r => r.Method == "POST" && r.Path == LoginPage.Path && r.Status == (int)HttpStatusCode.Redirect);
    });

    [ClusterFact]
    public Task Tokens_IssuedOnOneNode_IntrospectAndRefreshOnTheOther() => cluster.WithLogsOnFailureAsync(async () =>
    {
        var (first, second) = (cluster.Nodes[0], cluster.Nodes[1]);
        var issued = await SignInAndRedeemAsync(first);

        var introspected = await second.Client.IntrospectAsync(issued.AccessToken);
        Assert.True(introspected.Body.GetProperty("active").GetBoolean(), introspected.ToString());
        Assert.Equal(cluster.Issuer.AbsoluteUri, introspected.Body.GetProperty("iss").GetString());
        Assert.Equal(ClusterFixture.ClientId, introspected.Body.GetProperty("client_id").GetString());

        var refreshed = await second.Client.RefreshAsync(issued.RefreshToken);
        Assert.True(refreshed.Status == HttpStatusCode.OK, refreshed.ToString());
        Assert.NotEqual(issued.RefreshToken, refreshed.RefreshToken);
        Assert.True(await first.Client.IsActiveAsync(refreshed.AccessToken));

        // And back: the token the second node rotated in refreshes on the first.
        var again = await first.Client.RefreshAsync(refreshed.RefreshToken);
        Assert.True(again.Status == HttpStatusCode.OK, again.ToString());
        Assert.True(await second.Client.IsActiveAsync(again.AccessToken));
    });

    /// <summary>
    /// A client registered through one node's admin API works on the other at once; its secret rotated
    /// there (a second secret, then the first deleted), disabled, enabled and deleted on the first node,
    /// the other follows each step as soon as the change notice arrives (PostgreSQL NOTIFY), not after
    /// its one-minute lookup cache expires, and never with a 5xx.
    /// </summary>
    [ClusterFact]
    public Task Client_RegisteredRotatedDisabledAndDeletedOnOneNode_TakesEffectOnTheOtherAtOnce() => cluster.WithLogsOnFailureAsync(async () =>
    {
        var (first, second) = (cluster.Nodes[0], cluster.Nodes[1]);
        var admin = await first.Client.ClientCredentialsAsync(ClusterFixture.AdminClientId, ClusterFixture.AdminClientSecret, "idp.admin");
        Assert.True(admin.Status == HttpStatusCode.OK, admin.ToString());
        var created = await first.Client.AdminAsync(HttpMethod.Post, "api/admin/clients", admin.AccessToken,
            """{ "clientId": "cluster-runtime", "grantTypes": ["client_credentials"], "scopes": ["cluster-api"] }""");
        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        var secret = created.Body.GetProperty("clientSecret").GetString()!;

        // Known to the second node at once, and now in its lookup cache.
        var issued = await second.Client.ClientCredentialsAsync("cluster-runtime", secret, "cluster-api");
        Assert.True(issued.Status == HttpStatusCode.OK, issued.ToString());

        // Rotation: both secrets work on the second node at once; the old one, deleted, stops there.
        var listed = await first.Client.AdminAsync(HttpMethod.Get, "api/admin/clients/cluster-runtime/secrets", admin.AccessToken);
        var oldId = listed.Body[0].GetProperty("id").GetString()!;
        var added = await first.Client.AdminAsync(HttpMethod.Post, "api/admin/clients/cluster-runtime/secrets", admin.AccessToken, "{}");
        Assert.True(added.Status == HttpStatusCode.Created, added.ToString());
        var newSecret = added.Body.GetProperty("secret").GetString()!;
        Assert.True(await WorksAsync(second, newSecret));
        Assert.True(await WorksAsync(second, secret));
        var removed = await first.Client.AdminAsync(HttpMethod.Delete, $"api/admin/clients/cluster-runtime/secrets/{oldId}", admin.AccessToken);
        Assert.True(removed.Status == HttpStatusCode.NoContent, removed.ToString());
        await RefusedSoonAsync(second, secret);
        Assert.True(await WorksAsync(second, newSecret));

        // Disabled on the first node: refused on the second, its token inactive; enabled: back.
        var renewed = await second.Client.ClientCredentialsAsync("cluster-runtime", newSecret, "cluster-api");
        var disabled = await first.Client.AdminAsync(HttpMethod.Post, "api/admin/clients/cluster-runtime/disable", admin.AccessToken);
        Assert.True(disabled.Status == HttpStatusCode.OK, disabled.ToString());
        await RefusedSoonAsync(second, newSecret);
        Assert.False(await second.Client.IsActiveAsync(renewed.AccessToken));
        var enabled = await first.Client.AdminAsync(HttpMethod.Post, "api/admin/clients/cluster-runtime/enable", admin.AccessToken);
        Assert.True(enabled.Status == HttpStatusCode.OK, enabled.ToString());
        var clock = Stopwatch.StartNew();
        while (!await WorksAsync(second, newSecret))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), "The second node still refused the client 2 s after it was enabled.");
        }

        var deleted = await first.Client.AdminAsync(HttpMethod.Delete, "api/admin/clients/cluster-runtime", admin.AccessToken);
        Assert.True(deleted.Status == HttpStatusCode.NoContent, deleted.ToString());
        await RefusedSoonAsync(second, newSecret);
        Assert.False(await second.Client.IsActiveAsync(issued.AccessToken));
    });

    private static async Task<bool> WorksAsync(ClusterNode node, string secret, string clientId = "cluster-runtime")
    {
        var response = await node.Client.ClientCredentialsAsync(clientId, secret, "cluster-api");
        Assert.True(response.Status is HttpStatusCode.OK or HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized, response.ToString());
        return response.Status == HttpStatusCode.OK;
    }

    /// <summary>The node refuses the secret with invalid_client within 2 s (the change notice's way), never with a 5xx.</summary>
    private static async Task RefusedSoonAsync(ClusterNode node, string secret, string clientId = "cluster-runtime")
    {
        var clock = Stopwatch.StartNew();
        ProtocolResponse refused;
        do
        {
            refused = await node.Client.ClientCredentialsAsync(clientId, secret, "cluster-api");
            Assert.True(refused.Status is HttpStatusCode.OK or HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized, refused.ToString());
        }
        while (refused.Status == HttpStatusCode.OK && clock.Elapsed < TimeSpan.FromSeconds(2));
        Assert.Equal("invalid_client", refused.Error);
    }

    /// <summary>
    /// The same through the admin pages, as an administrator in a browser behind nginx (whose round-robin
    /// spreads the pages over both nodes): a client registered, its secret shown once and working on both
    /// nodes, a second secret added, then the client disabled, refused by both nodes at once.
    /// </summary>
    [ClusterFact]
    public Task Client_ThroughTheAdminPages_RegisteredRotatedAndDisabled_BothNodesFollow() => cluster.WithLogsOnFailureAsync(async () =>
    {
        await using var context = await cluster.NewBrowserContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(cluster.Issuer, "Account/Login").AbsoluteUri);
        var login = new LoginPage(page);
        await login.WaitAsync();
        await login.SignInAsync(ClusterFixture.AdminUserName, ClusterFixture.AdminPassword);
        await page.WaitForURLAsync(url => !url.Contains(LoginPage.Path, StringComparison.OrdinalIgnoreCase));

        await page.GotoAsync(new Uri(cluster.Issuer, "Admin/Clients/Create").AbsoluteUri);
        await page.Locator("input[name='Form.ClientId']").FillAsync("cluster-pages");
        await page.Locator("input[name='Form.GrantTypes'][value='client_credentials']").CheckAsync();
        await page.Locator("input[name='Form.Scopes'][value='cluster-api']").CheckAsync();
        await page.Locator("#register").ClickAsync();
        var first = (await page.Locator("#new-secret").TextContentAsync())!.Trim();
        foreach (var node in cluster.Nodes)
        {
            Assert.True(await WorksAsync(node, first, "cluster-pages"), $"{node} refused the secret shown on the page.");
        }

        await page.GotoAsync(new Uri(cluster.Issuer, "Admin/Clients/cluster-pages").AbsoluteUri);
        await page.Locator("input[name='previousDays']").FillAsync("7");
        await page.Locator("#add-secret").ClickAsync();
        var second = (await page.Locator("#new-secret").TextContentAsync())!.Trim();
        Assert.NotEqual(first, second);
        foreach (var node in cluster.Nodes)
        {
            Assert.True(await WorksAsync(node, first, "cluster-pages") && await WorksAsync(node, second, "cluster-pages"), $"{node} refused a secret during the rotation.");
        }

        await page.GotoAsync(new Uri(cluster.Issuer, "Admin/Clients/cluster-pages").AbsoluteUri);
        await page.Locator("#disable").ClickAsync();
        await page.Locator("#admin-message").WaitForAsync();
        Assert.Equal("Disabled", (await page.Locator("#client-state").TextContentAsync())!.Trim());
        foreach (var node in cluster.Nodes)
        {
            await RefusedSoonAsync(node, second, "cluster-pages");
        }
    });

    /// <summary>
    /// A client assertion (private_key_jwt) is used once across the cluster: its jti is remembered in the
    /// shared database, so the same assertion sent to the other node is refused.
    /// </summary>
    [ClusterFact]
    public Task ClientAssertion_UsedOnOneNode_RefusedOnTheOther() => cluster.WithLogsOnFailureAsync(async () =>
    {
        var (first, second) = (cluster.Nodes[0], cluster.Nodes[1]);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var point = key.ExportParameters(false).Q;
        var admin = await first.Client.ClientCredentialsAsync(ClusterFixture.AdminClientId, ClusterFixture.AdminClientSecret, "idp.admin");
        var created = await first.Client.AdminAsync(HttpMethod.Post, "api/admin/clients", admin.AccessToken, $$"""
            { "clientId": "cluster-signer", "grantTypes": ["client_credentials"], "scopes": ["cluster-api"],
              "jsonWebKeySet": { "keys": [ { "kty": "EC", "crv": "P-256", "kid": "c1", "x": "{{Base64Url(point.X!)}}", "y": "{{Base64Url(point.Y!)}}" } ] } }
            """);
        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        var assertion = SignedAssertion(key, "cluster-signer", cluster.Issuer.AbsoluteUri);

        var accepted = await first.Client.ClientCredentialsWithAssertionAsync("cluster-signer", assertion, "cluster-api");
        var replayed = await second.Client.ClientCredentialsWithAssertionAsync("cluster-signer", assertion, "cluster-api");

        Assert.True(accepted.Status == HttpStatusCode.OK, accepted.ToString());
        Assert.True(replayed.Status == HttpStatusCode.Unauthorized && replayed.Error == "invalid_client", replayed.ToString());
        // A fresh assertion still works on the second node.
        var fresh = await second.Client.ClientCredentialsWithAssertionAsync("cluster-signer", SignedAssertion(key, "cluster-signer", cluster.Issuer.AbsoluteUri), "cluster-api");
        Assert.True(fresh.Status == HttpStatusCode.OK, fresh.ToString());
    });

    [ClusterFact]
    public Task DPoPProof_UsedOnOneNode_RefusedOnTheOther() => cluster.WithLogsOnFailureAsync(async () =>
    {
        var (first, second) = (cluster.Nodes[0], cluster.Nodes[1]);
        using var key = new DPoPProof();
        // The URL the client sees: the issuer's, behind the load balancer, whichever node answers.
        var proof = key.For("POST", new Uri(cluster.Issuer, "connect/token"));

        var accepted = await first.Client.ClientCredentialsAsync(ClusterFixture.AdminClientId, ClusterFixture.AdminClientSecret, "idp.admin", proof);
        var replayed = await second.Client.ClientCredentialsAsync(ClusterFixture.AdminClientId, ClusterFixture.AdminClientSecret, "idp.admin", proof);

        Assert.True(accepted.Status == HttpStatusCode.OK && accepted.Body.GetProperty("token_type").GetString() == "DPoP", accepted.ToString());
        Assert.True(replayed.Status == HttpStatusCode.BadRequest && replayed.Error == "invalid_dpop_proof", replayed.ToString());
    });

    /// <summary>An ES256 client assertion (RFC 7523bis: typ client-authentication+jwt, aud the issuer), signed by hand.</summary>
    private static string SignedAssertion(ECDsa key, string clientId, string issuer)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["alg"] = "ES256", ["typ"] = "client-authentication+jwt", ["kid"] = "c1" }));
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = clientId, ["sub"] = clientId, ["aud"] = issuer, ["jti"] = Guid.NewGuid().ToString("N"),
            ["iat"] = now, ["nbf"] = now, ["exp"] = now + 60,
        }));
        var signature = key.SignData(System.Text.Encoding.ASCII.GetBytes(header + "." + payload), HashAlgorithmName.SHA256);
        return header + "." + payload + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// Automatic signing keys on a real schedule (a key signs for 30 s, the next is published 10 s ahead):
    /// one node's job creates the next key, both nodes publish it before it signs, and both sign with it
    /// from its activation time on; never two keys for one rotation.
    /// </summary>
    [ClusterFact]
    public Task SigningKeys_RotateOnSchedule_BothNodesPublishAheadAndSwitchTogether() => cluster.WithLogsOnFailureAsync(async () =>
    {
        var (first, second) = (cluster.Nodes[0], cluster.Nodes[1]);
        var admin = await first.Client.ClientCredentialsAsync(ClusterFixture.AdminClientId, ClusterFixture.AdminClientSecret, "idp.admin");
        Assert.True(admin.Status == HttpStatusCode.OK, admin.ToString());

        // Wait for the job (on either node) to publish the next key; one rotation interval at most.
        var clock = Stopwatch.StartNew();
        JsonElement next;
        while (true)
        {
            var keys = await first.Client.AdminAsync(HttpMethod.Get, "api/admin/keys", admin.AccessToken);
            Assert.True(keys.Status == HttpStatusCode.OK, keys.ToString());
            var found = keys.Body.GetProperty("keys").EnumerateArray().Where(static k => k.GetProperty("state").GetString() == "next").ToList();
            if (found.Count > 0 && found[0].GetProperty("activatesAt").GetDateTimeOffset() > DateTimeOffset.UtcNow + TimeSpan.FromSeconds(2))
            {
                next = found[0];
                break;
            }
            Assert.True(clock.Elapsed < ClusterFixture.KeyRotationInterval + TimeSpan.FromSeconds(15), $"No next key was published: {keys}");
            await Task.Delay(250);
        }
        var nextId = next.GetProperty("id").GetString()!;
        var activatesAt = next.GetProperty("activatesAt").GetDateTimeOffset();

        // Published by both nodes before it signs; neither signs with it yet.
        foreach (var node in cluster.Nodes)
        {
            Assert.Contains(nextId, await node.Client.JwksKeyIdsAsync());
            Assert.NotEqual(nextId, Kid((await node.Client.ClientCredentialsAsync(ClusterFixture.AdminClientId, ClusterFixture.AdminClientSecret, "idp.admin")).AccessToken));
        }
        Assert.True(DateTimeOffset.UtcNow < activatesAt, "The next key was not published on both nodes before it signed.");

        await Task.Delay(activatesAt - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(500));
        foreach (var node in cluster.Nodes)
        {
            var issued = await node.Client.ClientCredentialsAsync(ClusterFixture.AdminClientId, ClusterFixture.AdminClientSecret, "idp.admin");
            Assert.Equal(nextId, Kid(issued.AccessToken));
        }

        // One key per rotation, whichever node's job ran.
        var all = await second.Client.AdminAsync(HttpMethod.Get, "api/admin/keys", admin.AccessToken);
        var activations = all.Body.GetProperty("keys").EnumerateArray().Select(static k => k.GetProperty("activatesAt").GetDateTimeOffset()).Order().ToList();
        Assert.All(activations.Zip(activations.Skip(1)), static pair => Assert.True(pair.Second - pair.First > TimeSpan.FromSeconds(10), $"{pair.First:O} and {pair.Second:O}"));
    });

    private static string Kid(string token)
    {
        var header = token.Split('.')[0].Replace('-', '+').Replace('_', '/');
        var bytes = Convert.FromBase64String(header.PadRight(header.Length + (4 - header.Length % 4) % 4, '='));
        return JsonDocument.Parse(bytes).RootElement.GetProperty("kid").GetString()!;
    }

    [ClusterFact]
    public Task Session_EndedOnOneNode_IsRefusedOnTheOther() => cluster.WithLogsOnFailureAsync(async () =>
    {
        await using var context = await cluster.NewBrowserContextAsync();
        var page = await context.NewPageAsync();
        var flow = await BrowserSignIn.RunAsync(page, cluster.Issuer);
        var tokens = await cluster.Proxy.RedeemCodeAsync(flow);
        var cookie = await cluster.CookieHeaderAsync(context);

        var sessions = new SessionsPage(page);
        await sessions.OpenAsync(cluster.Issuer);
        var sessionId = Assert.Single(await sessions.SessionIdsAsync());
        // Both nodes accept the browser's cookie, and now hold the session in their short cache.
        foreach (var node in cluster.Nodes)
        {
            using var signedIn = await node.Client.GetAsync(SessionsPage.Path, cookie);
            Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
            Assert.Contains($"data-session-id=\"{sessionId}\"", await signedIn.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The user signs the session out on the sessions page; nginx picks the node that ends it.
        var ending = await page.RunAndWaitForResponseAsync(
            () => sessions.EndAsync(sessionId),
            r => r.Request.Method == "POST" && new Uri(r.Url).AbsolutePath == SessionsPage.Path);
        var endedAt = Stopwatch.StartNew();
        Assert.Equal((int)HttpStatusCode.Redirect, ending.Status);
        var endedOn = cluster.NodeAt(ending.Headers.GetValueOrDefault("x-upstream"));
        var other = cluster.Nodes.Single(n => n != endedOn);

        // At once on the other node: the session's tokens are revoked in the shared database.
        Assert.False(await other.Client.IsActiveAsync(tokens.AccessToken));
        var refresh = await other.Client.RefreshAsync(tokens.RefreshToken);
        Assert.Equal(HttpStatusCode.BadRequest, refresh.Status);
        Assert.Equal("invalid_grant", refresh.Error);

        // The cookie: at once on the node that ended the session, within Sessions:CacheDuration on the other.
        Assert.False(await IsSignedInAsync(endedOn, cookie));
        // Measured from when each request is sent, so that a slow answer does not count against the node.
        var deadline = ClusterFixture.SessionCacheDuration + TimeSpan.FromSeconds(2);
        while (true)
        {
            var askedAt = endedAt.Elapsed;
            if (!await IsSignedInAsync(other, cookie))
            {
                break;
            }
            Assert.True(askedAt < deadline, $"{other} still accepted the cookie {askedAt} after {endedOn} ended the session.");
            await Task.Delay(100);
        }
    });

    [ClusterFact]
    public Task RefreshTokenReuse_DetectedOnOneNode_RevokesTheGrantOnBoth() => cluster.WithLogsOnFailureAsync(async () =>
    {
        var (first, second) = (cluster.Nodes[0], cluster.Nodes[1]);
        var issued = await SignInAndRedeemAsync(first);
        var rotated = await second.Client.RefreshAsync(issued.RefreshToken);
        Assert.True(rotated.Status == HttpStatusCode.OK, rotated.ToString());
        Assert.True(await first.Client.IsActiveAsync(rotated.AccessToken));

        // The first refresh token again, after the second node redeemed it (no reuse leeway): a replay.
        var replay = await first.Client.RefreshAsync(issued.RefreshToken);
        Assert.Equal(HttpStatusCode.BadRequest, replay.Status);
        Assert.Equal("invalid_grant", replay.Error);

        // Everything of that grant is dead, whichever node is asked, the newest refresh token included.
        foreach (var node in cluster.Nodes)
        {
            var refresh = await node.Client.RefreshAsync(rotated.RefreshToken);
            Assert.True(refresh.Status == HttpStatusCode.BadRequest && refresh.Error == "invalid_grant", $"{node}: {refresh}");
            Assert.False(await node.Client.IsActiveAsync(issued.AccessToken), $"{node}: the first access token is still active");
            Assert.False(await node.Client.IsActiveAsync(rotated.AccessToken), $"{node}: the newest access token is still active");
        }
        Assert.Contains(first.Process.Output, line => line.Contains("token reuse detected", StringComparison.Ordinal));
    });

    [ClusterFact]
    public Task Pruning_EachFiring_RunsOnExactlyOneNode() => cluster.WithLogsOnFailureAsync(async () =>
    {
        // Several firings on one schedule for the cluster: whole intervals apart. Nodes with schedules of
        // their own would each fire at times of their own, between the other's, for ever. (The latest ones:
        // a node starting keeps the stored trigger, but the test does not depend on when both were up.)
        const int Firings = 5;
        var firings = await cluster.WaitForPruningFiringsAsync(
            f => IsOneSchedule([.. f.Select(x => x.ScheduledAt).Distinct().Order().TakeLast(Firings)], Firings),
            TimeSpan.FromSeconds(90));

        Assert.All(firings, f => Assert.Equal(f.Node.Name, f.LoggedNode));
        Assert.All(firings.GroupBy(f => f.ScheduledAt), firing =>
            Assert.True(firing.Count() == 1, $"The firing scheduled at {firing.Key:O} ran {firing.Count()} times: {string.Join(", ", firing)}"));
    });

    private static bool IsOneSchedule(IReadOnlyList<DateTimeOffset> times, int count) =>
        times.Count == count && times.Zip(times.Skip(1)).All(pair => (pair.Second - pair.First).Ticks % ClusterFixture.SchedulerInterval.Ticks == 0);

    /// <summary>A browser sign-in through nginx, and the code redeemed on <paramref name="node"/>: the tokens are issued there.</summary>
    private async Task<ProtocolResponse> SignInAndRedeemAsync(ClusterNode node)
    {
        await using var context = await cluster.NewBrowserContextAsync();
        return await node.Client.RedeemCodeAsync(await BrowserSignIn.RunAsync(await context.NewPageAsync(), cluster.Issuer));
    }

    private static async Task<bool> IsSignedInAsync(ClusterNode node, string cookie)
    {
        using var response = await node.Client.GetAsync(SessionsPage.Path, cookie);
        if (response.StatusCode == HttpStatusCode.OK)
        {
            return true;
        }
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(LoginPage.Path, new Uri(node.Client.Address, response.Headers.Location!).AbsolutePath);
        return false;
    }
}
