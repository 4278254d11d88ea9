using System.Net;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using static IdentityServer.Tests.Passkeys.PasskeySteps;

namespace IdentityServer.Tests.Passkeys;

/// <summary>A server whose relying party is a parent domain of its issuer, with its origins named.</summary>
public sealed class ConfiguredRelyingPartyFactory : IdentityServerFactory
{
    public ConfiguredRelyingPartyFactory()
    {
        Settings["Passkeys:ServerDomain"] = "localhost";
        Settings["Passkeys:AllowedOrigins:0"] = "https://localhost";
        Settings["Passkeys:AllowedOrigins:1"] = "https://login.localhost:8443";
    }
}

/// <summary>
/// <c>Passkeys:ServerDomain</c> and <c>Passkeys:AllowedOrigins</c>: used as configured, and checked
/// at start, so that a relying party browsers would refuse never goes live.
/// </summary>
public sealed class PasskeyConfigurationTests(ConfiguredRelyingPartyFactory factory) : IClassFixture<ConfiguredRelyingPartyFactory>
{
    [Fact]
    public async Task ConfiguredOrigins_AreAccepted_OthersRefused()
    {
        var id = await Admin.AdminTestHelpers.CreateUserAsync(factory, "passkey-origins");
        using var passkey = new TestPasskey();
        await StoreAsync(factory, id, passkey);

        using var other = factory.CreateOidcClient();
        using var refused = await SignInAsync(other, passkey, id, origin: "https://elsewhere.localhost");
        using var browser = factory.CreateOidcClient();
        using var signedIn = await SignInAsync(browser, passkey, id, origin: "https://login.localhost:8443");

        Assert.Equal(FailedMessage, await TwoFactor.TwoFactorSteps.ErrorAsync(refused));
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
    }

    [Theory]
    [InlineData("Passkeys:ServerDomain", "https://localhost")]
    [InlineData("Passkeys:ServerDomain", "localhost:443")]
    [InlineData("Passkeys:ServerDomain", "LocalHost")]
    [InlineData("Passkeys:ServerDomain", "example.com")]
    [InlineData("Passkeys:AllowedOrigins:0", "https://localhost/path")]
    [InlineData("Passkeys:AllowedOrigins:0", "ftp://localhost")]
    [InlineData("Passkeys:AllowedOrigins:0", "localhost")]
    public void InvalidRelyingParty_StopsStartup(string key, string value)
    {
        using var host = new IdentityServerFactory();
        host.Settings[key] = value;

        var error = Assert.Throws<OptionsValidationException>(() => host.Services);

        Assert.Contains("Passkeys:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OriginOutsideTheServerDomain_StopsStartup()
    {
        using var host = new IdentityServerFactory();
        host.Settings["Passkeys:ServerDomain"] = "id.example.com";
        host.Settings["Passkeys:AllowedOrigins:0"] = "https://example.com";

        var error = Assert.Throws<OptionsValidationException>(() => host.Services);

        Assert.Contains("is not on Passkeys:ServerDomain", error.Message, StringComparison.Ordinal);
    }
}
