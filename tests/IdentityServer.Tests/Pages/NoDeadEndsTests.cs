using System.Net;
using IdentityServer.Hosting;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Pages;

/// <summary>
/// Every error and every sign-out ends on a page that says what happened in plain words and offers a
/// way on; the OAuth error code is there, in small print, for whoever has to fix it.
/// </summary>
public sealed class NoDeadEndsTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task UnknownAddress_PageNotFoundWithAWayHomeAndTheReferenceInSmallPrint()
    {
        using var client = factory.CreateOidcClient();

        using var response = await client.Http.GetAsync(new Uri("/Account/NoSuchPage", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var page = await OidcTestClient.ParseAsync(response);
        Assert.Equal("Page not found", page.QuerySelector("#error-title")!.TextContent);
        Assert.Equal("/", page.QuerySelector("#home-link")!.GetAttribute("href"));
        Assert.Equal("not_found", page.QuerySelector(".fine-print #error-code")!.TextContent);
        Assert.Equal(response.Headers.GetValues(CorrelationIdMiddleware.HeaderName).Single(), page.QuerySelector(".fine-print #error-reference")!.TextContent);
    }

    /// <summary>
    /// A page answers GET, HEAD and POST. Any other method would render it without running a handler, so
    /// without its model: the admin's user page answered TRACE with a 500 (found by the fuzz test).
    /// </summary>
    [Theory]
    [InlineData("TRACE")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PROPFIND")]
    public async Task Page_OtherMethodThanGetOrPost_405_NeverRenderedWithoutItsModel(string method)
    {
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        var admin = await OidcTestClient.ParseAsync(await client.NavigateAsync("/Admin"));
        var user = admin.QuerySelector("a[href^='/Admin/Users/']:not([href$='/Create'])")!.GetAttribute("href")!;

        foreach (var path in new[] { user, "/Admin/Clients/" + TestSeed.WebClientId, "/Account/Sessions", "/Account/Login" })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
            using var response = await client.Http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.MethodNotAllowed, $"{method} {path}: {(int)response.StatusCode}");
        }
        using var head = await client.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri("/Account/Sessions", UriKind.Relative)));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }

    [Fact]
    public async Task ApplicationsBadRequest_SaysToGoBackToTheApplication_CodeAndDescriptionInSmallPrint()
    {
        using var client = factory.CreateOidcClient();
        var parameters = OidcTestClient.CodeRequest(TestSeed.WebClientId, "https://elsewhere.example/cb", "openid", Pkce.Create());

        using var response = await client.GetAuthorizeAsync(parameters);

        await OidcTestClient.AssertErrorPageAsync(response, "invalid_request");
        var page = await OidcTestClient.ParseAsync(response);
        Assert.Equal("The application's request could not be completed", page.QuerySelector("#error-title")!.TextContent);
        Assert.Contains("Go back to the application", page.QuerySelector("#error-explanation")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("redirect_uri", page.QuerySelector(".fine-print #error-description")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("/", page.QuerySelector("#home-link")!.GetAttribute("href"));
    }

    [Fact]
    public async Task SignOutConfirmation_HasCancel_AndSigningOutEndsOnTheSignedOutPage()
    {
        using var client = factory.CreateOidcClient();
        await client.CodeFlowAsync("openid");

        var confirm = await client.NavigateAsync("/Account/Logout");
        Assert.Equal("/", (await OidcTestClient.ParseAsync(confirm)).QuerySelector("#cancel-sign-out")!.GetAttribute("href"));
        using var posted = await client.SubmitAsync(confirm, button: "sign-out");
        var signedOut = await OidcTestClient.ParseAsync(await client.NavigateAsync(posted.Headers.Location!.OriginalString));

        Assert.Equal("You are signed out", signedOut.QuerySelector("h1")!.TextContent);
        Assert.Equal("/Account/Login", signedOut.QuerySelector("#sign-in-again")!.GetAttribute("href"));
    }

    [Fact]
    public async Task AppInitiatedSignOutWithoutReturnAddress_HasCancel_AndEndsOnTheSignedOutPage()
    {
        using var client = factory.CreateOidcClient();
        await client.CodeFlowAsync("openid");

        var confirm = await client.NavigateAsync("/connect/endsession");
        Assert.Equal("/", (await OidcTestClient.ParseAsync(confirm)).QuerySelector("#cancel-sign-out")!.GetAttribute("href"));
        using var done = await client.SubmitAsync(confirm, button: "confirm-sign-out");

        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        Assert.Equal("/Account/Logout", done.Headers.Location!.OriginalString);
        var signedOut = await OidcTestClient.ParseAsync(await client.NavigateAsync("/Account/Logout"));
        Assert.NotNull(signedOut.QuerySelector("#signed-out"));
    }
}
