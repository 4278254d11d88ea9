using System.Net;
using IdentityServer.Admin;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Hosting.Fuzzing;

/// <summary>
/// Real credentials the generator starts from, obtained through the normal flows before the fuzzing
/// starts. Two authorizations of alice's: A's tokens stay valid (userinfo, introspection,
/// id_token_hint); B's may be refreshed, replayed and revoked by the fuzz without spoiling A.
/// </summary>
internal sealed record FuzzBaseline(
    string Authority,
    string SignedInCookies,
    string AnonymousCookies,
    string AnonymousAntiforgeryToken,
    string AccessToken,
    string IdToken,
    string RevocableAccessToken,
    string RevocableRefreshToken,
    string WorkerAccessToken,
    string AdminAccessToken,
    string DeviceCode,
    string UserCode,
    string AliceId,
    string VictimId)
{
    /// <summary>Every redirect URI and post-logout redirect URI the seed registers: the only foreign places a redirect may go.</summary>
    public static IReadOnlyList<string> RegisteredUris { get; } =
        [TestSeed.WebRedirectUri, TestSeed.WebPostLogoutRedirectUri, TestSeed.PortalRedirectUri, TestSeed.PublicRedirectUri];

    public static async Task<FuzzBaseline> CreateAsync(FuzzServerFactory server)
    {
        var browserCookies = new CookieContainer();
        using var browser = new OidcTestClient(CreateClient(server, browserCookies));
        var a = await browser.CodeFlowAsync();
        var b = await browser.CodeFlowAsync();

        // The sign-in page as a new visitor sees it: an antiforgery cookie and the form's token.
        var anonymousCookies = new CookieContainer();
        using var visitor = new OidcTestClient(CreateClient(server, anonymousCookies));
        using var loginPage = await visitor.Http.GetAsync(new Uri("/Account/Login", UriKind.Relative));
        var antiforgery = (await OidcTestClient.ParseAsync(loginPage)).QuerySelector("input[name=__RequestVerificationToken]")?.GetAttribute("value")
            ?? throw new InvalidOperationException("The sign-in page has no antiforgery token.");

        using var machine = new OidcTestClient(CreateClient(server, new CookieContainer()));
        var worker = await machine.ClientCredentialsAsync();
        var admin = await AdminTestHelpers.AdminTokenAsync(machine);
        var device = await machine.PostAsync("/connect/device",
            [new("client_id", FuzzServerFactory.DeviceClientId), new("scope", $"openid offline_access {TestSeed.ApiScope}")]);
        Assert.Equal(HttpStatusCode.OK, device.Status);

        return new FuzzBaseline(
            server.Address.Authority,
            browserCookies.GetCookieHeader(server.Address),
            anonymousCookies.GetCookieHeader(server.Address),
            antiforgery,
            a["access_token"]!,
            a["id_token"]!,
            b["access_token"]!,
            b["refresh_token"]!,
            worker["access_token"]!,
            admin,
            device["device_code"]!,
            device["user_code"]!,
            await AdminTestHelpers.UserIdAsync(server, TestSeed.UserName),
            await AdminTestHelpers.UserIdAsync(server, FuzzServerFactory.VictimUserName));
    }

    private static HttpClient CreateClient(FuzzServerFactory server, CookieContainer cookies) =>
        new(FuzzTransport.CreateHandler(server.EndPoint, server.TlsCertificate, cookies)) { BaseAddress = server.Address };
}
