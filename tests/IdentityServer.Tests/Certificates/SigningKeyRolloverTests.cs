using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using IdentityServer.Certificates;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Certificates;

/// <summary>
/// The signing-key runbook of certs/README.md, step by step, on one database: publish the next key,
/// switch to it, retire the old one. Tokens signed with the old key keep validating (locally with the
/// JWKS and through introspection) until they expire or their key is retired.
/// </summary>
public sealed class SigningKeyRolloverTests : IDisposable
{
    private const string NextPassword = "next-signing";

    private readonly IdentityServerFactory _before = new();
    private readonly List<IdentityServerFactory> _later = [];
    private readonly string _nextPath;
    private readonly string _currentKeyId;
    private readonly string _nextKeyId;

    public SigningKeyRolloverTests()
    {
        // Valid now and expiring long after the current test certificate: left to itself, the server
        // would sign with it at once. The runbook's Active flag keeps it published-only first.
        _nextPath = Path.Combine(_before.Folder, "signing-next.pfx");
        using (var next = CertificateLoader.Create("Next Signing", X509KeyUsageFlags.DigitalSignature,
            DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(20)))
        {
            File.WriteAllBytes(_nextPath, next.Export(X509ContentType.Pkcs12, NextPassword));
            _nextKeyId = next.Thumbprint;
        }
        using var current = X509CertificateLoader.LoadPkcs12FromFile(TestCertificates.SigningPath, TestCertificates.Password, X509KeyStorageFlags.EphemeralKeySet);
        _currentKeyId = current.Thumbprint;
    }

    [Fact]
    public async Task RollingTheSigningKey_OldTokensValidateUntilTheyExpire_ThenTheOldKeyIsRetired()
    {
        // The nodes of every step share one database; all are started first, so the short lifetime of
        // the old token below is spent on the steps themselves, not on start-ups.
        _before.Settings["IdentityServer:AccessTokenLifetime"] = "00:00:12";
        using var beforeClient = _before.CreateOidcClient();
        using var publishing = Node(current: true, next: true, activeIndex: 0).CreateOidcClient();
        using var switched = Node(current: true, next: true, activeIndex: 1).CreateOidcClient();
        using var retired = Node(current: false, next: true, activeIndex: 0).CreateOidcClient();
        foreach (var node in new[] { beforeClient, publishing, switched, retired })
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, (await node.Http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);
        }

        // Before: one key. This token's lifetime is short so the test can watch it expire.
        var old = (await beforeClient.ClientCredentialsAsync())["access_token"]!;
        var oldExpires = DateTimeOffset.FromUnixTimeSeconds(Jwt.Payload(old).GetProperty("exp").GetInt64());
        Assert.Equal(_currentKeyId, Jwt.Header(old).GetProperty("kid").GetString());

        // Step 1, publish: the next key is in the JWKS, the current one (marked Active) still signs.
        Assert.Equal(new[] { _currentKeyId, _nextKeyId }.Order(StringComparer.Ordinal), (await PublishedKeyIdsAsync(publishing)).Order(StringComparer.Ordinal));
        var duringPublication = (await publishing.ClientCredentialsAsync())["access_token"]!;
        Assert.Equal(_currentKeyId, Jwt.Header(duringPublication).GetProperty("kid").GetString());

        // Step 2, switch: new tokens carry the next key; the old token still validates, locally with
        // the published JWKS and through introspection.
        var fresh = (await switched.ClientCredentialsAsync())["access_token"]!;
        Assert.Equal(_nextKeyId, Jwt.Header(fresh).GetProperty("kid").GetString());
        Assert.True(DateTimeOffset.UtcNow < oldExpires, "the old token must still be within its lifetime here");
        var local = await Jwt.ValidateAsync(switched.Http, old, TestSeed.ApiClientId);
        Assert.True(local.IsValid, local.Exception?.Message);
        Assert.True((await Jwt.ValidateAsync(switched.Http, fresh, TestSeed.ApiClientId)).IsValid);
        Assert.True(await IsActiveAsync(switched, old));
        Assert.True(await IsActiveAsync(switched, fresh));

        // Until it expires: then introspection says inactive although its key is still published.
        var wait = oldExpires - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1.5);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
        Assert.False(await IsActiveAsync(switched, old));
        Assert.True(await IsActiveAsync(switched, fresh));

        // Step 3, retire: only the next key is published; tokens it signed keep working, a token signed
        // with the retired key fails local validation (its kid is gone) and introspection.
        Assert.Equal([_nextKeyId], await PublishedKeyIdsAsync(retired));
        Assert.True((await Jwt.ValidateAsync(retired.Http, fresh, TestSeed.ApiClientId)).IsValid);
        Assert.True(await IsActiveAsync(retired, fresh));
        Assert.False((await Jwt.ValidateAsync(retired.Http, duringPublication, TestSeed.ApiClientId)).IsValid);
        Assert.False(await IsActiveAsync(retired, duringPublication));
    }

    [Fact]
    public void TwoCertificatesMarkedActive_StopStartUp_NamingBoth()
    {
        using var factory = Node(current: true, next: true, activeIndex: 0);
        factory.Settings["Certificates:Signing:1:Active"] = "true";
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        var message = error.ToString();
        Assert.Contains("Certificates:Signing:0 and Certificates:Signing:1 are both marked Active", message, StringComparison.Ordinal);
        Assert.DoesNotContain(NextPassword, message, StringComparison.Ordinal);
    }

    [Fact]
    public void ActiveCertificateNotValidYet_StopsStartUp()
    {
        var future = Path.Combine(_before.Folder, "signing-future.pfx");
        using (var certificate = CertificateLoader.Create("Future Signing", X509KeyUsageFlags.DigitalSignature,
            DateTimeOffset.UtcNow.AddDays(3), DateTimeOffset.UtcNow.AddYears(2)))
        {
            File.WriteAllBytes(future, certificate.Export(X509ContentType.Pkcs12, NextPassword));
        }
        using var factory = Node(current: true, next: false, activeIndex: 1);
        factory.Settings["Certificates:Signing:1:Path"] = future;
        factory.Settings["Certificates:Signing:1:Password"] = NextPassword;
        factory.Settings["Certificates:Signing:1:Active"] = "true";
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("Certificates:Signing:1 is marked Active but is valid only from", error.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Another node on the first one's database, with the given signing certificates (in that order).</summary>
    private IdentityServerFactory Node(bool current, bool next, int activeIndex)
    {
        var node = new IdentityServerFactory();
        _later.Add(node);
        node.Settings["ConnectionStrings:Default"] = _before.ConnectionString;
        node.Settings["DataProtection:KeysPath"] = _before.Settings["DataProtection:KeysPath"];
        node.Settings.Remove("Certificates:Signing:0:Path");
        node.Settings.Remove("Certificates:Signing:0:Password");
        var index = 0;
        foreach (var (use, path, password) in new[] { (current, TestCertificates.SigningPath, TestCertificates.Password), (next, _nextPath, NextPassword) })
        {
            if (!use)
            {
                continue;
            }
            node.Settings[$"Certificates:Signing:{index}:Path"] = path;
            node.Settings[$"Certificates:Signing:{index}:Password"] = password;
            if (index == activeIndex)
            {
                node.Settings[$"Certificates:Signing:{index}:Active"] = "true";
            }
            index++;
        }
        return node;
    }

    private static async Task<string[]> PublishedKeyIdsAsync(OidcTestClient client)
    {
        var jwks = JsonDocument.Parse(await client.Http.GetStringAsync(new Uri("/.well-known/jwks", UriKind.Relative))).RootElement;
        return [.. jwks.GetProperty("keys").EnumerateArray().Select(static key => key.GetProperty("kid").GetString()!)];
    }

    private static async Task<bool> IsActiveAsync(OidcTestClient client, string token) =>
        (await client.IntrospectAsync(token))["active"] == "true";

    public void Dispose()
    {
        foreach (var node in _later)
        {
            node.Dispose();
        }
        _before.Dispose();
    }
}
