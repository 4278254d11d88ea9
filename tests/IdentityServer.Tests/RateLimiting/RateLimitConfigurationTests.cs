using System.Net;
using IdentityServer.RateLimiting;
using IdentityServer.Tests.DeviceFlow;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IdentityServer.Tests.RateLimiting;

/// <summary>The device-flow server allowing one token per client and minute.</summary>
public sealed class DevicePollingRateLimitFactory : DeviceFlowFactory
{
    public DevicePollingRateLimitFactory()
    {
        Settings["RateLimits:Token:PermitLimit"] = "1";
        Settings["RateLimits:Token:Window"] = "00:01:00";
    }
}

public sealed class DevicePollingRateLimitTests(DevicePollingRateLimitFactory factory) : IClassFixture<DevicePollingRateLimitFactory>
{
    [Fact]
    public async Task DevicePolling_BeforeApproval_SpendsNothingOfTheClientsTokenBudget()
    {
        using var device = factory.CreateOidcClient();
        var start = await DeviceFlowTests.StartAsync(device);
        for (var i = 0; i < 4; i++)
        {
            var poll = await DeviceFlowTests.PollAsync(device, start);
            Assert.Equal(HttpStatusCode.BadRequest, poll.Status);
            Assert.Equal("authorization_pending", poll.Error);
        }

        using var browser = factory.CreateOidcClient();
        var consent = await DeviceFlowTests.OpenVerificationAsync(browser, start["verification_uri_complete"]!);
        using var approved = await browser.SubmitAsync(consent, button: "accept");
        Assert.Equal(HttpStatusCode.Redirect, approved.StatusCode);

        // The one token of the minute goes to the approved device. With the budget spent, another
        // device of the same app still polls normally: pending, not 429.
        Assert.Equal(HttpStatusCode.OK, (await DeviceFlowTests.PollAsync(device, start)).Status);
        var second = await DeviceFlowTests.StartAsync(device);
        Assert.Equal("authorization_pending", (await DeviceFlowTests.PollAsync(device, second)).Error);
    }
}

/// <summary>A server configured with the key the user-code limit had before the RateLimits section.</summary>
public sealed class LegacyUserCodeLimitFactory : IdentityServerFactory
{
    public LegacyUserCodeLimitFactory()
    {
        Settings.Remove("RateLimits:DeviceVerification:PermitLimit");
        Settings["IdentityServer:UserCodeAttemptsPerMinute"] = "7";
    }
}

public sealed class LegacyUserCodeLimitTests(LegacyUserCodeLimitFactory factory) : IClassFixture<LegacyUserCodeLimitFactory>
{
    [Fact]
    public void UserCodeAttemptsPerMinute_StillSetsTheDeviceVerificationLimit()
    {
        var options = factory.Services.GetRequiredService<IOptions<RateLimitOptions>>().Value;
        Assert.Equal(7, options.DeviceVerification.PermitLimit);
        Assert.Equal(TimeSpan.FromMinutes(1), options.DeviceVerification.Window);
    }
}

public sealed class RateLimitOptionsValidationTests
{
    [Theory]
    [InlineData("RateLimits:Token:Window", "00:00:00")]
    [InlineData("RateLimits:SignInPerAccount:PermitLimit", "-1")]
    [InlineData("RateLimits:Token:ExemptClients:0", " ")]
    public void InvalidLimit_StopsStartup(string key, string value)
    {
        using var factory = new IdentityServerFactory();
        factory.Settings[key] = value;
        var error = Assert.Throws<OptionsValidationException>(() => factory.Services);
        Assert.Contains("RateLimits:", error.Message, StringComparison.Ordinal);
    }
}
