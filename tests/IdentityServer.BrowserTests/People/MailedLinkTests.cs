using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using IdentityServer.BrowserTests.Infrastructure;
using IdentityServer.Seeding;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Playwright;

namespace IdentityServer.BrowserTests.People;

/// <summary>
/// Mails received by the test SMTP server and followed in Chromium: an invitation to an account an
/// administrator created through the API, and a forgot-password link.
/// </summary>
public sealed class MailedLinkTests(MailServerHost host, ChromiumFixture chromium)
    : IClassFixture<MailServerHost>, IClassFixture<ChromiumFixture>
{
    private const string NewPassword = "Browser-Chosen-Passw0rd!";

    [BrowserFact]
    public async Task Invitation_FollowedInTheBrowser_PasswordChosen_SignsInThroughTheWebApp()
    {
        var server = host.Server.BaseAddress;
        using (var http = host.Server.CreateHttpClient())
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/admin/users")
            {
                Content = JsonContent.Create(new { userName = "browser-invitee", email = "browser-invitee@example.com" }),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await AdminTokenAsync(http));
            using var created = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        var link = TestMailServer.Link(await host.Mail.NextMailToAsync("browser-invitee@example.com"));
        Assert.Equal(server.Authority, link.Authority);

        await using var browser = await BrowserSession.OpenAsync(chromium.Browser, server);
        await browser.Page.GotoAsync(link.AbsoluteUri);
        var invitation = new AcceptInvitationPage(browser.Page);
        await Assertions.Expect(invitation.UserName).ToHaveTextAsync("browser-invitee");
        // The show-password button works under the strict Content Security Policy (script from a file).
        await invitation.ShowPasswords.ClickAsync();
        await Assertions.Expect(invitation.Password).ToHaveAttributeAsync("type", "text");
        await invitation.ChooseAsync(NewPassword);
        await Assertions.Expect(invitation.Accepted).ToBeVisibleAsync();

        var authorization = AuthorizationRequest.Create();
        await browser.StartAsync(authorization);
        await browser.Login.WaitAsync();
        await browser.Login.SignInAsync("browser-invitee", NewPassword);
        await browser.Consent.WaitAsync();
        await browser.Consent.AllowAsync();
        var callback = await browser.WaitForClientCallbackAsync();
        Assert.Equal(authorization.State, callback["state"]);

        // The used link now gets the friendly page.
        await browser.Page.GotoAsync(link.AbsoluteUri);
        await Assertions.Expect(browser.Page.Locator("#invalid-link")).ToBeVisibleAsync();
    }

    [BrowserFact]
    public async Task ForgotPassword_MailFollowedInTheBrowser_NewPasswordSignsIn()
    {
        var server = host.Server.BaseAddress;
        await using var browser = await BrowserSession.OpenAsync(chromium.Browser, server);
        await browser.Page.GotoAsync(new Uri(server, LoginPage.Path).AbsoluteUri);
        await browser.Page.Locator("#forgot-password").ClickAsync();
        var reset = new ResetPasswordPage(browser.Page);
        await reset.RequestAsync(DevelopmentSeed.UserName);
        await Assertions.Expect(reset.Requested).ToBeVisibleAsync();

        var link = TestMailServer.Link(await host.Mail.NextMailToAsync("alice@example.com"));
        await browser.Page.GotoAsync(link.AbsoluteUri);
        await reset.ChooseAsync(NewPassword);
        await Assertions.Expect(reset.Done).ToBeVisibleAsync();

        await browser.Page.Locator("#sign-in").ClickAsync();
        await browser.Login.WaitAsync();
        await browser.Login.SignInAsync(DevelopmentSeed.UserName, NewPassword);
        await browser.Page.WaitForURLAsync(url => !url.Contains(LoginPage.Path, StringComparison.Ordinal));
        Assert.NotNull(await browser.CookieAsync("idp.session"));
    }

    private static async Task<string> AdminTokenAsync(HttpClient http)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = "demo-admin",
            ["client_secret"] = "demo-admin-secret",
            ["scope"] = "idp.admin",
        });
        using var response = await http.PostAsync(new Uri("connect/token", UriKind.Relative), form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("access_token").GetString()!;
    }
}
