using System.Net;
using IdentityServer.Sessions;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Sessions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace IdentityServer.Tests.DeviceFlow;

/// <summary>A server with a public device client ("TV app") and a clock the test can move.</summary>
public class DeviceFlowFactory : IdentityServerFactory
{
    public const string DeviceClientId = "tv";

    public DeviceFlowFactory()
    {
        File.WriteAllText(SeedPath, $$"""
        {
          "Scopes": [ { "Name": "{{TestSeed.ApiScope}}", "DisplayName": "Orders API", "Resources": ["{{TestSeed.ApiClientId}}"] } ],
          "Clients": [
            { "ClientId": "{{DeviceClientId}}", "ClientType": "public", "DisplayName": "Living-room TV",
              "GrantTypes": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
              "Scopes": ["openid", "profile", "offline_access", "{{TestSeed.ApiScope}}"] },
            { "ClientId": "{{TestSeed.ApiClientId}}", "ClientSecret": "{{TestSeed.ApiSecret}}", "ClientType": "confidential", "Introspection": true }
          ],
          "Users": [
            { "UserName": "{{TestSeed.UserName}}", "Email": "{{TestSeed.UserEmail}}", "Password": "{{TestSeed.UserPassword}}" },
            { "UserName": "{{TestSeed.SecondUserName}}", "Email": "bob@example.com", "Password": "{{TestSeed.SecondUserPassword}}" }
          ]
        }
        """);
    }

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override void ConfigureTestServices(IWebHostBuilder builder) =>
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Clock));
}

/// <summary>The same server, allowing three user-code entries per user and minute.</summary>
public sealed class StrictDeviceFlowFactory : DeviceFlowFactory
{
    public StrictDeviceFlowFactory() => Settings["RateLimits:DeviceVerification:PermitLimit"] = "3";
}

public sealed class DeviceFlowRateLimitTests(StrictDeviceFlowFactory factory) : IClassFixture<StrictDeviceFlowFactory>
{
    [Fact]
    public async Task VerificationPage_TooManyCodeEntries_AreRateLimitedPerUser()
    {
        using var browser = factory.CreateOidcClient();
        await DeviceFlowTests.OpenVerificationAsync(browser, "/connect/verify");

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await browser.Http.GetAsync(new Uri($"/connect/verify?user_code=BBBB-BBB{"CDF"[i]}", UriKind.Relative));
            statuses.Add(response.StatusCode);
        }
        using var refused = await browser.Http.GetAsync(new Uri("/connect/verify?user_code=BBBB-BBBG", UriKind.Relative));

        // Opening the page without a code does not count; each code typed does.
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
        var page = await OidcTestClient.ParseAsync(refused);
        Assert.StartsWith("Too many codes entered. Wait ", page.QuerySelector("#code-error")!.TextContent, StringComparison.Ordinal);
        // The code was not looked up: the code-entry form is shown again with it.
        Assert.Equal("BBBB-BBBG", page.QuerySelector("#user-code-input")!.GetAttribute("value"));

        // Another user is not affected.
        using var other = factory.CreateOidcClient();
        await DeviceFlowTests.OpenVerificationAsync(other, "/connect/verify", TestSeed.SecondUserName, TestSeed.SecondUserPassword);
    }
}

public sealed class DeviceFlowTests(DeviceFlowFactory factory) : IClassFixture<DeviceFlowFactory>
{
    [Fact]
    public async Task DeviceFlow_UserAllowsInBrowser_DeviceGetsTokensBoundToTheBrowserSession()
    {
        using var device = factory.CreateOidcClient();
        var start = await StartAsync(device);
        Assert.Equal("authorization_pending", (await PollAsync(device, start)).Error);

        using var browser = factory.CreateOidcClient();
        var consent = await OpenVerificationAsync(browser, start["verification_uri_complete"]!);
        var page = await OidcTestClient.ParseAsync(consent);
        Assert.Equal("Living-room TV", page.QuerySelector("#client-name")!.TextContent);
        Assert.Equal(["openid", "offline_access", TestSeed.ApiScope], page.QuerySelectorAll("li[data-scope]").Select(li => li.GetAttribute("data-scope")));
        using var approved = await browser.SubmitAsync(consent, button: "accept");
        Assert.Equal(HttpStatusCode.Redirect, approved.StatusCode);
        Assert.Equal("/connect/verify?result=approved", approved.Headers.Location!.OriginalString);

        var tokens = await PollAsync(device, start);
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        Assert.True(await device.IsActiveAsync(tokens["access_token"]!));
        var sid = SessionProbe.Sid(tokens["id_token"]!);
        Assert.Contains(DeviceFlowFactory.DeviceClientId, (await SessionProbe.FindAsync(factory, sid))!.Clients.Select(c => c.ClientId));

        // A device code is used once.
        Assert.Equal("invalid_grant", (await PollAsync(device, start)).Error);

        // Ending the browser session that approved it signs the device out too.
        await SessionProbe.EndAsync(factory, sid, SessionEndReasons.EndedByUser, "test");
        Assert.False(await device.IsActiveAsync(tokens["access_token"]!));
        var refresh = await device.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"]!), ("client_id", DeviceFlowFactory.DeviceClientId));
        Assert.Equal("invalid_grant", refresh.Error);
    }

    [Fact]
    public async Task DeviceFlow_UserDenies_DeviceGetsAccessDenied()
    {
        using var device = factory.CreateOidcClient();
        var start = await StartAsync(device);
        using var browser = factory.CreateOidcClient();
        var consent = await OpenVerificationAsync(browser, start["verification_uri_complete"]!);

        using var denied = await browser.SubmitAsync(consent, button: "deny");

        Assert.Equal("/connect/verify?result=denied", denied.Headers.Location!.OriginalString);
        Assert.Equal("access_denied", (await PollAsync(device, start)).Error);
    }

    [Fact]
    public async Task VerificationPage_TypedCode_ShowsTheRequest_AndAWrongCodeShowsAnError()
    {
        using var device = factory.CreateOidcClient();
        var start = await StartAsync(device);
        using var browser = factory.CreateOidcClient();
        var form = await OpenVerificationAsync(browser, start["verification_uri"]!);
        Assert.NotNull((await OidcTestClient.ParseAsync(form)).QuerySelector("#user-code-input"));

        var wrong = await browser.NavigateAsync("/connect/verify?user_code=" + Uri.EscapeDataString("BBBB-BBBB"));
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        Assert.NotNull((await OidcTestClient.ParseAsync(wrong)).QuerySelector("#code-error"));

        var typed = await browser.NavigateAsync("/connect/verify?user_code=" + Uri.EscapeDataString(start["user_code"]!));
        Assert.Equal("Living-room TV", (await OidcTestClient.ParseAsync(typed)).QuerySelector("#client-name")!.TextContent);
    }

    [Fact]
    public async Task DeviceAuthorization_UserCode_IsEightUnambiguousCharactersInTwoGroups()
    {
        using var device = factory.CreateOidcClient();
        var start = await StartAsync(device);

        // RFC 8628 6.1: consonants only (no 0/O, 1/I look-alikes, no words), grouped for reading.
        Assert.Matches("^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$", start["user_code"]);
        Assert.EndsWith("user_code=" + start["user_code"], start["verification_uri_complete"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerificationPage_CodeTypedInLowerCaseWithoutTheDash_ShowsTheRequestWithTheGroupedCode()
    {
        using var device = factory.CreateOidcClient();
        var start = await StartAsync(device);
        using var browser = factory.CreateOidcClient();
        await OpenVerificationAsync(browser, start["verification_uri"]!);

        var typed = await browser.NavigateAsync("/connect/verify?user_code=" + Uri.EscapeDataString(" " + start["user_code"]!.Replace("-", "", StringComparison.Ordinal).ToLowerInvariant()));

        var page = await OidcTestClient.ParseAsync(typed);
        Assert.Equal("Living-room TV", page.QuerySelector("#client-name")!.TextContent);
        Assert.Equal(start["user_code"], page.QuerySelector("#user-code")!.TextContent);
    }

    [Fact]
    public async Task VerificationPage_AfterTheDecision_ShowsTheOutcomeAndNoForm()
    {
        using var device = factory.CreateOidcClient();
        var start = await StartAsync(device);
        using var browser = factory.CreateOidcClient();
        var consent = await OpenVerificationAsync(browser, start["verification_uri_complete"]!);
        using var approved = await browser.SubmitAsync(consent, button: "accept");

        var done = await OidcTestClient.ParseAsync(await browser.NavigateAsync(approved.Headers.Location!.OriginalString));

        Assert.NotNull(done.QuerySelector("#device-approved"));
        Assert.Empty(done.QuerySelectorAll("main form, main input"));
        Assert.Equal("/connect/verify", done.QuerySelector("#another-device")!.GetAttribute("href"));
    }

    [Fact]
    public async Task DeviceFlow_CodeExpires_DeviceGetsExpiredTokenAndThePageRefusesTheCode()
    {
        using var device = factory.CreateOidcClient();
        var start = await StartAsync(device);
        Assert.InRange(start.Json.GetProperty("expires_in").GetInt32(), 595, 600);

        factory.Clock.Advance(TimeSpan.FromMinutes(11));

        Assert.Equal("expired_token", (await PollAsync(device, start)).Error);
        using var browser = factory.CreateOidcClient();
        var page = await OpenVerificationAsync(browser, start["verification_uri_complete"]!);
        Assert.NotNull((await OidcTestClient.ParseAsync(page)).QuerySelector("#code-error"));
    }

    [Fact]
    public async Task DeviceAuthorization_UnknownClient_IsInvalidClient()
    {
        using var device = factory.CreateOidcClient();
        var response = await device.PostAsync("/connect/device", [new("client_id", "nobody"), new("scope", "openid")]);
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("invalid_client", response.Error);
    }

    [Fact]
    public async Task DeviceAuthorization_ScopeTheClientMayNotUse_Returns400InvalidScope()
    {
        // "email" is a scope the server knows, but not one the TV app is registered for (RFC 8628 3.2, RFC 6749 5.2).
        using var device = factory.CreateOidcClient();
        var response = await device.PostAsync("/connect/device", [new("client_id", DeviceFlowFactory.DeviceClientId), new("scope", "openid email")]);
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_scope", response.Error);
    }

    internal static async Task<TokenResponse> StartAsync(OidcTestClient device)
    {
        var start = await device.PostAsync("/connect/device",
            [new("client_id", DeviceFlowFactory.DeviceClientId), new("scope", $"openid offline_access {TestSeed.ApiScope}")]);
        Assert.Equal(HttpStatusCode.OK, start.Status);
        Assert.StartsWith(IdentityServerFactory.BaseAddress.AbsoluteUri + "connect/verify", start["verification_uri"], StringComparison.Ordinal);
        return start;
    }

    internal static Task<TokenResponse> PollAsync(OidcTestClient device, TokenResponse start) => device.TokenAsync(
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", start["device_code"]!), ("client_id", DeviceFlowFactory.DeviceClientId));

    /// <summary>Opens a verification URL in a browser without a session: the sign-in page comes first.</summary>
    internal static async Task<HttpResponseMessage> OpenVerificationAsync(OidcTestClient browser, string url, string login = TestSeed.UserName, string password = TestSeed.UserPassword)
    {
        var response = await browser.NavigateAsync(new Uri(url).PathAndQuery);
        Assert.Equal("/Account/Login", response.RequestMessage!.RequestUri!.AbsolutePath);
        response = await browser.SignInAsync(response, login, password);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/connect/verify", response.RequestMessage!.RequestUri!.AbsolutePath);
        return response;
    }
}
