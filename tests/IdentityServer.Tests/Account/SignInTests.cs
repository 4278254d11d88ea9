using System.Net;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Account;

public sealed class SignInTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task SignIn_ByEmail_Succeeds()
    {
        using var client = factory.CreateOidcClient();
        var redirect = await client.AuthorizeAsync(
            OidcTestClient.CodeRequest(TestSeed.ImplicitConsentClientId, TestSeed.PortalRedirectUri, "openid", null), TestSeed.UserEmail, TestSeed.UserPassword);
        Assert.Contains("code", OidcTestClient.Query(redirect).Keys);
    }

    [Fact]
    public async Task SignIn_WrongPassword_StaysOnPageWithGenericMessage()
    {
        using var client = factory.CreateOidcClient();
        var page = await client.NavigateAsync("/Account/Login");
        using var response = await client.SubmitAsync(page, new Dictionary<string, string> { ["Input.Login"] = "nobody", ["Input.Password"] = "whatever-1" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("The username or password is incorrect.", (await OidcTestClient.ParseAsync(response)).QuerySelector("#login-error")!.TextContent);
    }

    [Fact]
    public async Task SignIn_FormKeyWithUnbalancedBracket_IsRefusedWithoutServerError()
    {
        // MVC's jQuery-style key parser threw on "a[" (and again on the error page): an empty 500.
        using var client = factory.CreateOidcClient();
        using var content = new StringContent("Input.Login[=alice&Input.Password=x", System.Text.Encoding.ASCII, "application/x-www-form-urlencoded");
        using var response = await client.Http.PostAsync(new Uri("/Account/Login", UriKind.Relative), content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task SignIn_FiveWrongPasswords_LocksTheAccountEvenForTheRightPassword()
    {
        using var client = factory.CreateOidcClient();
        for (var i = 0; i < 5; i++)
        {
            var page = await client.NavigateAsync("/Account/Login");
            using var failed = await client.SubmitAsync(page, new Dictionary<string, string> { ["Input.Login"] = TestSeed.SecondUserName, ["Input.Password"] = "wrong-" + i });
            Assert.Equal(HttpStatusCode.OK, failed.StatusCode);
        }

        var login = await client.NavigateAsync("/Account/Login");
        using var response = await client.SubmitAsync(login, new Dictionary<string, string> { ["Input.Login"] = TestSeed.SecondUserName, ["Input.Password"] = TestSeed.SecondUserPassword });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("locked", (await OidcTestClient.ParseAsync(response)).QuerySelector("#login-error")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_PostWithoutAntiforgeryToken_Returns400()
    {
        using var client = factory.CreateOidcClient();
        using var response = await client.Http.PostAsync(new Uri("/Account/Login", UriKind.Relative), new FormUrlEncodedContent(
            [new("Input.Login", TestSeed.UserName), new("Input.Password", TestSeed.UserPassword)]));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(response.Headers, h => h.Key == "Set-Cookie" && h.Value.Any(v => v.StartsWith("idp.session=", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task SignIn_Succeeded_SetsHttpOnlySecureSameSiteCookie()
    {
        using var client = factory.CreateOidcClient();
        var page = await client.NavigateAsync("/Account/Login");
        using var response = await client.SubmitAsync(page, new Dictionary<string, string> { ["Input.Login"] = TestSeed.UserName, ["Input.Password"] = TestSeed.UserPassword });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var cookie = response.Headers.GetValues("Set-Cookie").Single(v => v.StartsWith("idp.session=", StringComparison.Ordinal)).ToLowerInvariant();
        Assert.Contains("; httponly", cookie, StringComparison.Ordinal);
        Assert.Contains("; secure", cookie, StringComparison.Ordinal);
        Assert.Contains("; samesite=lax", cookie, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example/")]
    [InlineData("/\\evil.example/")]
    public async Task SignIn_ExternalReturnUrl_RedirectsHomeInstead(string returnUrl)
    {
        using var client = factory.CreateOidcClient();
        var page = await client.NavigateAsync("/Account/Login?ReturnUrl=" + Uri.EscapeDataString(returnUrl));
        using var response = await client.SubmitAsync(page, new Dictionary<string, string> { ["Input.Login"] = TestSeed.UserName, ["Input.Password"] = TestSeed.UserPassword });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Pages_Always_SendSecurityHeaders()
    {
        using var client = factory.CreateOidcClient();
        using var response = await client.Http.GetAsync(new Uri("/Account/Login", UriKind.Relative));
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownPage_Returns404FriendlyPage()
    {
        using var client = factory.CreateOidcClient();
        using var response = await client.Http.GetAsync(new Uri("/no/such/page", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not_found", (await OidcTestClient.ParseAsync(response)).QuerySelector("#error-code")!.TextContent);
    }
}
