using System.Net;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Passkeys;
using IdentityServer.Tests.Sessions;
using static IdentityServer.Tests.TwoFactor.TwoFactorSteps;

namespace IdentityServer.Tests.TwoFactor;

/// <summary>
/// The owner hears by mail of every way to sign in added to or taken from their account: a stolen
/// password is enough to add one, and this mail is how the owner learns of it.
/// </summary>
public sealed class SecurityNoticeTests(MailServerFactory factory) : IClassFixture<MailServerFactory>
{
    private const string Subject = "A sign-in method of your account changed";

    [Fact]
    public async Task Authenticator_TurnedOnThenResetByAnAdmin_TheOwnerIsToldEachTime_WithoutALink()
    {
        using var browser = factory.CreateOidcClient();
        var id = (await EnrolledAccountAsync(factory, browser, "notice-app")).Id;

        var enabled = await factory.Mail.NextMailToAsync("notice-app@example.com");
        Assert.EndsWith(Subject, enabled.Subject, StringComparison.Ordinal);
        Assert.StartsWith("An authenticator app was turned on for the account notice-app, on ", enabled.TextBody, StringComparison.Ordinal);
        Assert.Empty(TestMailServer.Links(enabled));

        using var admin = factory.CreateOidcClient();
        var token = await AdminTestHelpers.AdminTokenAsync(admin);
        using var reset = await AdminTestHelpers.SendAsync(factory.CreateBrowserlikeClient(), HttpMethod.Post, $"/api/admin/users/{id}/reset-second-factors", token);
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);

        var disabled = await factory.Mail.NextMailToAsync("notice-app@example.com");
        Assert.StartsWith("An administrator turned off the authenticator app for the account notice-app", disabled.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Passkey_Added_TheOwnerIsToldWithItsName()
    {
        var id = await AdminTestHelpers.CreateUserAsync(factory, "notice-key");
        using var browser = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "notice-key"));
        using var page = await browser.NavigateAsync("/Account/Security");
        var options = await PasskeySteps.OptionsAsync(browser, page, "/Account/Passkeys/CreationOptions");
        using var passkey = new TestPasskey();

        using var added = await browser.SubmitFormAsync(page, "#add-passkey-form",
            new Dictionary<string, string> { ["Credential"] = passkey.Attestation(options), ["Name"] = "Work laptop" });

        Assert.Equal(HttpStatusCode.Redirect, added.StatusCode);
        var notice = await factory.Mail.NextMailToAsync("notice-key@example.com");
        Assert.EndsWith(Subject, notice.Subject, StringComparison.Ordinal);
        Assert.StartsWith("A passkey (Work laptop) was added for the account notice-key", notice.TextBody, StringComparison.Ordinal);
        Assert.Single(await PasskeySteps.PasskeysAsync(factory, id));
    }
}
