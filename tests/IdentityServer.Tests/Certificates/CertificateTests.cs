using System.Text.Json;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Certificates;

public sealed class CertificateTests
{
    [Fact]
    public void Production_NoCertificates_RefusesToStartNamingTheSettings()
    {
        using var factory = new IdentityServerFactory { EnvironmentName = "Production" };
        factory.Settings.Remove("Certificates:Signing:0:Path");
        factory.Settings.Remove("Certificates:Encryption:0:Path");
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        var message = error.ToString();
        // Automatic signing keys (the default without signing certificates) need the encryption certificate only.
        Assert.Contains("Certificates:Encryption:0:Path", message, StringComparison.Ordinal);
        Assert.Contains("Keys:Mode=Automatic", message, StringComparison.Ordinal);
        Assert.DoesNotContain("Certificates:Signing:0:Path", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Production_CertificatesModeWithoutCertificates_RefusesToStartNamingBothSettings()
    {
        using var factory = new IdentityServerFactory { EnvironmentName = "Production" };
        factory.Settings.Remove("Certificates:Signing:0:Path");
        factory.Settings.Remove("Certificates:Encryption:0:Path");
        factory.Settings["Keys:Mode"] = "Certificates";
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        var message = error.ToString();
        Assert.Contains("Certificates:Signing:0:Path", message, StringComparison.Ordinal);
        Assert.Contains("Certificates:Encryption:0:Path", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Production_WrongCertificatePassword_RefusesToStartWithoutLeakingIt()
    {
        using var factory = new IdentityServerFactory { EnvironmentName = "Production" };
        factory.Settings["Certificates:Signing:0:Password"] = "not-the-password";
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("Certificates:Signing", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Development_NoCertificates_CreatesThemOnceAndReusesThemAfterRestart()
    {
        var folder = Directory.CreateTempSubdirectory("idp-devcerts-").FullName;
        try
        {
            var first = await KeyIdAsync(folder, "Certificates");
            Assert.True(File.Exists(Path.Combine(folder, "signing.pfx")));
            Assert.True(File.Exists(Path.Combine(folder, "signing-ec.pfx")));
            Assert.True(File.Exists(Path.Combine(folder, "encryption.pfx")));
            Assert.Equal(first, await KeyIdAsync(folder, "Certificates"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Development_AutomaticKeys_CreatesOnlyTheEncryptionCertificate_SignsWithAKeyOfItsOwn()
    {
        var folder = Directory.CreateTempSubdirectory("idp-devcerts-").FullName;
        try
        {
            var kid = await KeyIdAsync(folder, mode: null);
            Assert.True(File.Exists(Path.Combine(folder, "encryption.pfx")));
            Assert.False(File.Exists(Path.Combine(folder, "signing.pfx")));
            // A key id of the server's own (128 random bits), not a certificate thumbprint.
            Assert.Equal(22, kid.Length);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Rollover_TwoSigningCertificates_BothPublishedInJwks()
    {
        using var factory = new IdentityServerFactory();
        var next = Path.Combine(factory.Folder, "next.pfx");
        using (var certificate = IdentityServer.Certificates.CertificateLoader.Create("Next Signing",
            System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.DigitalSignature, DateTimeOffset.UtcNow.AddDays(7), DateTimeOffset.UtcNow.AddYears(2)))
        {
            File.WriteAllBytes(next, certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12, "next"));
        }
        factory.Settings["Certificates:Signing:1:Path"] = next;
        factory.Settings["Certificates:Signing:1:Password"] = "next";

        using var client = factory.CreateOidcClient();
        var jwks = JsonDocument.Parse(await client.Http.GetStringAsync(new Uri("/.well-known/jwks", UriKind.Relative))).RootElement;
        Assert.Equal(2, jwks.GetProperty("keys").GetArrayLength());

        // The new key is not valid yet, so tokens are still signed with the current one.
        var token = (await client.ClientCredentialsAsync())["access_token"]!;
        var validation = await Jwt.ValidateAsync(client.Http, token, TestSeed.ApiClientId);
        Assert.True(validation.IsValid);
        using var current = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(
            TestCertificates.SigningPath, TestCertificates.Password, System.Security.Cryptography.X509Certificates.X509KeyStorageFlags.EphemeralKeySet);
        Assert.Equal(current.Thumbprint, Jwt.Header(token).GetProperty("kid").GetString());
    }

    private static async Task<string> KeyIdAsync(string certificateFolder, string? mode)
    {
        using var factory = new IdentityServerFactory { EnvironmentName = "Development" };
        if (mode is not null)
        {
            factory.Settings["Keys:Mode"] = mode;
        }
        factory.Settings.Remove("Certificates:Signing:0:Path");
        factory.Settings.Remove("Certificates:Signing:0:Password");
        factory.Settings.Remove("Certificates:Encryption:0:Path");
        factory.Settings.Remove("Certificates:Encryption:0:Password");
        factory.Settings["Certificates:DevelopmentPath"] = certificateFolder;
        using var client = factory.CreateBrowserlikeClient();
        var jwks = JsonDocument.Parse(await client.GetStringAsync(new Uri("/.well-known/jwks", UriKind.Relative))).RootElement;
        return jwks.GetProperty("keys")[0].GetProperty("kid").GetString()!;
    }
}
