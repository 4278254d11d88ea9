using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using IdentityServer.Certificates;
using IdentityServer.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tests.Certificates;

/// <summary>
/// IdentityServer:AccessTokenAlgorithm: access tokens signed RS256, ES256 or PS256 and verifiable with the
/// JWKS alone; ID tokens RS256 whatever it says; settings the certificates cannot honour stop start-up.
/// </summary>
public sealed class AccessTokenAlgorithmTests
{
    [Theory]
    [InlineData("RS256")]
    [InlineData("ES256")]
    [InlineData("PS256")]
    public async Task ClientCredentials_EachAlgorithm_SignedWithThePublishedKeyAndIntrospectedActive(string algorithm)
    {
        using var factory = Factory(algorithm);
        using var client = factory.CreateOidcClient();

        var response = await client.ClientCredentialsAsync();
        Assert.Equal(HttpStatusCode.OK, response.Status);
        var token = response["access_token"]!;
        var header = Jwt.Header(token);
        Assert.Equal(algorithm, header.GetProperty("alg").GetString());
        var expectedKey = algorithm == "ES256" ? Thumbprint(TestCertificates.EcSigningPath) : Thumbprint(TestCertificates.SigningPath);
        Assert.Equal(expectedKey, header.GetProperty("kid").GetString());

        // The JWKS names the key the way a resource server looks it up.
        var jwks = await JwksAsync(client);
        var jwk = jwks.Single(k => k.GetProperty("kid").GetString() == expectedKey);
        if (algorithm == "ES256")
        {
            Assert.Equal("EC", jwk.GetProperty("kty").GetString());
            Assert.Equal("P-256", jwk.GetProperty("crv").GetString());
            Assert.Equal("ES256", jwk.GetProperty("alg").GetString());
            Assert.Equal("sig", jwk.GetProperty("use").GetString());
            Assert.False(jwk.TryGetProperty("d", out _));
        }
        else
        {
            Assert.Equal("RSA", jwk.GetProperty("kty").GetString());
            // PS256: the key signs RS256 ID tokens too, so it names no single algorithm.
            Assert.Equal(algorithm == "PS256" ? null : "RS256", jwk.TryGetProperty("alg", out var alg) ? alg.GetString() : null);
        }

        // Verified with the JWKS, and with this algorithm only, as a strict resource server would.
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = IdentityServerFactory.BaseAddress.AbsoluteUri,
            ValidAudience = TestSeed.ApiClientId,
            IssuerSigningKeys = new JsonWebKeySet(await client.Http.GetStringAsync(new Uri("/.well-known/jwks", UriKind.Relative))).GetSigningKeys(),
            ValidTypes = ["at+jwt"],
            ValidAlgorithms = [algorithm],
        });
        Assert.True(validation.IsValid, validation.Exception?.Message);

        var introspection = await client.IntrospectAsync(token);
        Assert.Equal(HttpStatusCode.OK, introspection.Status);
        Assert.True(introspection.Json.GetProperty("active").GetBoolean());
        Assert.Equal(TestSeed.WorkerClientId, introspection["client_id"]);
    }

    [Fact]
    public async Task CodeFlow_Es256_IdTokenStaysRs256AndUserInfoAcceptsTheEs256AccessToken()
    {
        using var factory = Factory("ES256");
        using var client = factory.CreateOidcClient();

        var tokens = await client.CodeFlowAsync();
        var idToken = Jwt.Header(tokens["id_token"]!);
        Assert.Equal("RS256", idToken.GetProperty("alg").GetString());
        Assert.Equal(Thumbprint(TestCertificates.SigningPath), idToken.GetProperty("kid").GetString());
        Assert.Equal("ES256", Jwt.Header(tokens["access_token"]!).GetProperty("alg").GetString());

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/connect/userinfo", UriKind.Relative));
        request.Headers.Authorization = new("Bearer", tokens["access_token"]);
        using var userInfo = await client.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, userInfo.StatusCode);
        Assert.Equal(TestSeed.UserName, JsonDocument.Parse(await userInfo.Content.ReadAsStringAsync()).RootElement.GetProperty("preferred_username").GetString());

        // The refresh token (signed by OpenIddict's default credential) still redeems.
        var refreshed = await client.RefreshAsync(tokens["refresh_token"]!);
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        Assert.Equal("RS256", Jwt.Header(refreshed["id_token"]!).GetProperty("alg").GetString());
        Assert.Equal("ES256", Jwt.Header(refreshed["access_token"]!).GetProperty("alg").GetString());
    }

    [Fact]
    public async Task Discovery_Es256_ListsOnlyRs256ForIdTokensAndPublishesBothKeys()
    {
        using var factory = Factory("ES256");
        using var client = factory.CreateOidcClient();

        var discovery = JsonDocument.Parse(await client.Http.GetStringAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative))).RootElement;
        Assert.Equal(["RS256"], discovery.GetProperty("id_token_signing_alg_values_supported").EnumerateArray().Select(static e => e.GetString()));
        Assert.Equal(["EC", "RSA"], (await JwksAsync(client)).Select(static k => k.GetProperty("kty").GetString()).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("HS256")]
    [InlineData("3")]
    public void Start_UnknownAlgorithm_RefusesNamingTheSettingAndTheChoices(string value)
    {
        using var factory = new IdentityServerFactory();
        factory.Settings["IdentityServer:AccessTokenAlgorithm"] = value;
        var message = Assert.ThrowsAny<Exception>(() => factory.CreateClient()).ToString();
        Assert.Contains($"IdentityServer:AccessTokenAlgorithm '{value}' is not supported; use one of RS256, ES256, PS256.", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_Es256WithoutEcdsaCertificate_RefusesNamingWhatIsMissing()
    {
        using var factory = new IdentityServerFactory();
        factory.Settings["IdentityServer:AccessTokenAlgorithm"] = "ES256";
        var message = Assert.ThrowsAny<Exception>(() => factory.CreateClient()).ToString();
        Assert.Contains("IdentityServer:AccessTokenAlgorithm is ES256 but Certificates:Signing holds no ECDSA P-256 certificate valid now", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_OnlyAnEcdsaSigningCertificate_RefusesBecauseIdTokensNeedRsa()
    {
        using var factory = new IdentityServerFactory();
        factory.Settings["IdentityServer:AccessTokenAlgorithm"] = "ES256";
        factory.Settings["Certificates:Signing:0:Path"] = TestCertificates.EcSigningPath;
        var message = Assert.ThrowsAny<Exception>(() => factory.CreateClient()).ToString();
        Assert.Contains("Certificates:Signing holds no RSA certificate valid now", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_EcdsaCertificateOnAnotherCurve_RefusedNamingTheEntry()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var request = new CertificateRequest("CN=P-384 Signing", ecdsa, HashAlgorithmName.SHA384);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));

        using var factory = new IdentityServerFactory();
        factory.Settings["Certificates:Signing:1:Path"] = TestCertificates.Write(certificate, "p384.pfx");
        factory.Settings["Certificates:Signing:1:Password"] = TestCertificates.Password;
        var message = Assert.ThrowsAny<Exception>(() => factory.CreateClient()).ToString();
        Assert.Contains("Certificates:Signing:1:", message, StringComparison.Ordinal);
        Assert.Contains("must hold an RSA or an ECDSA P-256 certificate", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Active_OneRsaAndOneEcdsaMarked_EachSignsItsTokens()
    {
        // A second ECDSA certificate that expires later would be chosen without the flag.
        using var later = CertificateLoader.CreateEcdsa("Later ECDSA", DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(3));
        using var factory = Factory("ES256");
        factory.Settings["Certificates:Signing:0:Active"] = "true";
        factory.Settings["Certificates:Signing:1:Active"] = "true";
        factory.Settings["Certificates:Signing:2:Path"] = TestCertificates.Write(later, "later-ec.pfx");
        factory.Settings["Certificates:Signing:2:Password"] = TestCertificates.Password;
        using var client = factory.CreateOidcClient();

        var token = (await client.ClientCredentialsAsync())["access_token"]!;
        Assert.Equal(Thumbprint(TestCertificates.EcSigningPath), Jwt.Header(token).GetProperty("kid").GetString());
        Assert.Equal(3, (await JwksAsync(client)).Count);
    }

    [Fact]
    public void Active_TwoEcdsaMarked_RefusesNamingBothEntries()
    {
        using var factory = Factory("ES256");
        factory.Settings["Certificates:Signing:1:Active"] = "true";
        factory.Settings["Certificates:Signing:2:Path"] = TestCertificates.EcSigningPath;
        factory.Settings["Certificates:Signing:2:Password"] = TestCertificates.Password;
        factory.Settings["Certificates:Signing:2:Active"] = "true";
        var message = Assert.ThrowsAny<Exception>(() => factory.CreateClient()).ToString();
        Assert.Contains("Certificates:Signing:1 and Certificates:Signing:2 are both marked Active ECDSA P-256 certificates", message, StringComparison.Ordinal);
    }

    /// <summary>A server with the test RSA certificate as Certificates:Signing:0 and the ECDSA one as :1.</summary>
    private static IdentityServerFactory Factory(string algorithm)
    {
        var factory = new IdentityServerFactory();
        factory.Settings["IdentityServer:AccessTokenAlgorithm"] = algorithm;
        factory.Settings["Certificates:Signing:1:Path"] = TestCertificates.EcSigningPath;
        factory.Settings["Certificates:Signing:1:Password"] = TestCertificates.Password;
        return factory;
    }

    private static async Task<List<JsonElement>> JwksAsync(OidcTestClient client) =>
        [.. JsonDocument.Parse(await client.Http.GetStringAsync(new Uri("/.well-known/jwks", UriKind.Relative))).RootElement.GetProperty("keys").EnumerateArray()];

    private static string Thumbprint(string path)
    {
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, TestCertificates.Password, X509KeyStorageFlags.EphemeralKeySet);
        return certificate.Thumbprint;
    }
}
