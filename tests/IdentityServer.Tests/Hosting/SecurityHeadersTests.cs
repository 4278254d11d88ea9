using System.Net;
using AngleSharp.Html.Parser;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Hosting;

/// <summary>Every HTML page the server can show carries the browser-side protections, and needs no inline script or style.</summary>
public sealed class SecurityHeadersTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    /// <summary>Pages anyone can reach, including error pages.</summary>
    private static readonly string[] AnonymousPages =
    [
        "/",
        "/Account/Login",
        "/Account/AccessDenied",
        "/Account/ForgotPassword",
        "/Account/ResetPassword?userId=someone&token=not-a-token",
        "/Account/ConfirmEmail?userId=someone&token=not-a-token",
        "/Account/AcceptInvitation?userId=someone&token=not-a-token",
        "/Account/ConfirmEmailChange?userId=someone&email=someone%40example.com&token=not-a-token",
        "/Error",
        "/no/such/page",
        "/connect/authorize?client_id=no-such-client&response_type=code",
    ];

    /// <summary>Pages of a signed-in user (the seed's user is an administrator).</summary>
    private static readonly string[] SignedInPages =
    [
        "/",
        "/Account/Sessions",
        "/Account/ChangePassword",
        "/Account/Email",
        "/Account/Security",
        "/Account/Authenticator",
        "/Account/Authenticator?ReturnUrl=%2Fconnect%2Fauthorize%3Fclient_id%3Dshop",
        "/Account/StepUp?ReturnUrl=%2F&Ticket=not-a-ticket",
        "/Account/Logout",
        "/connect/verify",
        "/connect/endsession",
        "/Admin",
        "/Admin/Events",
        "/Admin/Users/Create",
    ];

    [Fact]
    public async Task EveryPage_SendsTheSecurityHeaders_AndHasNoInlineScriptOrStyle()
    {
        using var anonymous = factory.CreateOidcClient();
        foreach (var path in AnonymousPages)
        {
            await AssertProtectedPageAsync(anonymous, path);
        }

        using var signedIn = factory.CreateOidcClient();
        await signedIn.SignInThroughPortalAsync();
        var userId = await factory.WithScopeAsync(async services =>
            (await services.GetRequiredService<UserManager<ApplicationUser>>().FindByNameAsync(TestSeed.UserName))!.Id);
        foreach (var path in SignedInPages.Append("/Admin/Users/" + userId).Append($"/Admin/Users/{userId}/Edit"))
        {
            await AssertProtectedPageAsync(signedIn, path);
        }

        // The consent page of an app that asks for it.
        var consent = OidcTestClient.AuthorizeUrl(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid profile", Pkce.Create()));
        var page = await AssertProtectedPageAsync(signedIn, consent);
        Assert.Contains(TestSeed.WebClientId, page, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task PersonalDataAndTokens_AreSentWithNoStore_PublicMetadataMayBeCached()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();
        AssertNotStored(tokens.Message, "token");
        AssertNotStored((await client.IntrospectAsync(tokens["access_token"]!)).Message, "introspection");

        using (var userInfo = new HttpRequestMessage(HttpMethod.Get, new Uri("/connect/userinfo", UriKind.Relative)))
        {
            userInfo.Headers.Authorization = new("Bearer", tokens["access_token"]);
            using var response = await client.Http.SendAsync(userInfo);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            AssertNotStored(response, "userinfo");
        }

        var adminToken = await Admin.AdminTestHelpers.AdminTokenAsync(client);
        foreach (var path in new[] { "/api/admin/users", "/api/admin/events", "/api/admin/statistics" })
        {
            using var response = await Admin.AdminTestHelpers.SendAsync(client.Http, HttpMethod.Get, path, adminToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            AssertNotStored(response, path);
        }

        foreach (var path in new[] { "/.well-known/openid-configuration", "/.well-known/jwks" })
        {
            using var response = await client.Http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.CacheControl?.NoStore ?? false, path);
        }
        foreach (var path in new[] { "/css/site.css", "/js/password-toggle.js" })
        {
            using var file = await client.Http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, file.StatusCode);
            Assert.True(file.Headers.CacheControl?.NoCache, path);
            Assert.False(file.Headers.CacheControl?.NoStore, path);
        }
    }

    [Theory]
    [InlineData("/Account/Login", "show-password", "Input_Password")]
    [InlineData("/Account/ChangePassword", "show-passwords", "Input_CurrentPassword Input_NewPassword Input_ConfirmPassword")]
    public async Task ShowPasswordButton_IsHiddenUntilItsScriptRuns_AndNamesTheFieldsItShows(string path, string id, string fields)
    {
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        using var response = await client.Http.GetAsync(new Uri(path, UriKind.Relative));
        var document = await OidcTestClient.ParseAsync(response);

        // Without script the page works as it is, and offers no button that would do nothing.
        var button = document.GetElementById(id);
        Assert.NotNull(button);
        Assert.Equal("button", button.GetAttribute("type"));
        Assert.True(button.HasAttribute("hidden"));
        Assert.Equal("false", button.GetAttribute("aria-pressed"));
        Assert.Equal(fields, button.GetAttribute("aria-controls"));
        Assert.All(fields.Split(' '), field => Assert.Equal("password", document.GetElementById(field)?.GetAttribute("type")));
        Assert.StartsWith("Show password", button.TextContent.Trim(), StringComparison.Ordinal);

        // The sign-in page also has passkeys.js; every script is an external, deferred file.
        Assert.All(document.QuerySelectorAll("script"), static s => Assert.True(s.HasAttribute("src") && s.HasAttribute("defer")));
        var script = Assert.Single(document.QuerySelectorAll("script[src*='password-toggle.js']"));
        using var file = await client.Http.GetAsync(new Uri(script.GetAttribute("src")!, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal("text/javascript", file.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>The hash of OpenIddict's form_post auto-submit line, "document.form.submit();".</summary>
    private const string FormPostScriptHash = "'sha256-j7OoGArf6XW6YY4cAyS3riSSvrJRqpSi1fOF9vQ5SrI='";

    private static void AssertNotStored(HttpResponseMessage response, string what)
    {
        Assert.True(response.Headers.CacheControl?.NoStore ?? false, $"{what}: Cache-Control is '{response.Headers.CacheControl}'");
        Assert.Contains("no-cache", response.Headers.Pragma.Select(static p => p.Name));
    }

    [Fact]
    public async Task Hsts_IsSentOutsideDevelopment_OverHttps()
    {
        using var production = new IdentityServerFactory { EnvironmentName = "Production" };
        // localhost is exempt from HSTS (a developer's other sites): ask under a real host name.
        using var client = production.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://idp.example") });
        using var response = await client.GetAsync(new Uri("/Account/Login", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var hsts = Assert.Single(response.Headers.GetValues("Strict-Transport-Security"));
        Assert.Matches("^max-age=[1-9][0-9]{6,}", hsts);

        using var development = new IdentityServerFactory { EnvironmentName = "Development" };
        using var developmentClient = development.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://idp.example") });
        using var developmentResponse = await developmentClient.GetAsync(new Uri("/Account/Login", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, developmentResponse.StatusCode);
        Assert.False(developmentResponse.Headers.Contains("Strict-Transport-Security"));
    }

    /// <summary>Fetches an HTML page (status 200, 400, 403 or 404) and checks its headers and markup; returns the body.</summary>
    private static async Task<string> AssertProtectedPageAsync(OidcTestClient client, string path)
    {
        using var response = await client.Http.GetAsync(new Uri(path, UriKind.Relative));
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest or HttpStatusCode.Forbidden or HttpStatusCode.NotFound,
            $"{path}: {(int)response.StatusCode}");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);

        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("object-src 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("'unsafe-inline'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("'unsafe-eval'", csp, StringComparison.Ordinal);
        // Scripts: our own files, and by its hash the auto-submit line of the form_post page.
        Assert.Contains("; script-src 'self' " + FormPostScriptHash + ";", csp, StringComparison.Ordinal);
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        AssertNotStored(response, path);

        // What the policy would block must not be needed: no inline script, handler or style.
        var body = await response.Content.ReadAsStringAsync();
        var document = new HtmlParser().ParseDocument(body);
        Assert.All(document.QuerySelectorAll("script"), script => Assert.True(script.HasAttribute("src"), $"{path}: inline <script>"));
        Assert.All(document.QuerySelectorAll("script"), script => Assert.StartsWith("/js/", script.GetAttribute("src"), StringComparison.Ordinal));
        Assert.Empty(document.QuerySelectorAll("style"));
        foreach (var element in document.All)
        {
            Assert.DoesNotContain(element.Attributes, attribute =>
                attribute.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase) || attribute.Name.Equals("style", StringComparison.OrdinalIgnoreCase));
            if (element.GetAttribute("href") is { } href)
            {
                Assert.False(href.TrimStart().StartsWith("javascript:", StringComparison.OrdinalIgnoreCase), $"{path}: javascript: link");
            }
        }
        return body;
    }
}
