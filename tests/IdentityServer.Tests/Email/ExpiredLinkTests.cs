using System.Net;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Sessions;
using static IdentityServer.Tests.Email.AccountMailSteps;

namespace IdentityServer.Tests.Email;

/// <summary>Every mailed link lives three seconds here: long enough to open it on a loaded machine, short enough to wait out.</summary>
public sealed class ShortLinkFactory : MailServerFactory
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(3);

    public ShortLinkFactory()
    {
        foreach (var key in new[] { "PasswordResetLinkLifetime", "EmailVerificationLinkLifetime", "EmailChangeLinkLifetime" })
        {
            Settings["Accounts:" + key] = "00:00:03";
        }
    }
}

/// <summary>Links past <c>Accounts:*LinkLifetime</c> get the friendly page and change nothing.</summary>
public sealed class ExpiredLinkTests(ShortLinkFactory factory) : IClassFixture<ShortLinkFactory>
{
    /// <summary>Identity's token provider reads the system clock: the tests wait the lifetime out.</summary>
    private static Task WaitForExpiryAsync() => Task.Delay(ShortLinkFactory.Lifetime + TimeSpan.FromSeconds(1.2));

    [Fact]
    public async Task ResetLink_Expired_GetsTheFriendlyPage_AndChangesNothing()
    {
        var user = await CreateUserAsync(factory, "expired-reset");
        using var client = factory.CreateOidcClient();
        await RequestResetAsync(client, user.UserName!);
        var mail = await factory.Mail.NextMailToAsync(user.Email!);
        Assert.Contains("for 3 seconds", mail.TextBody, StringComparison.Ordinal);
        var link = TestMailServer.Link(mail);
        var form = await client.NavigateAsync(Local(link));
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);

        await WaitForExpiryAsync();
        await AssertInvalidLinkPageAsync(await client.NavigateAsync(Local(link)));
        await AssertInvalidLinkPageAsync(await client.SubmitAsync(form, new Dictionary<string, string> { ["Input.NewPassword"] = "Expired-Passw0rd!", ["Input.ConfirmPassword"] = "Expired-Passw0rd!" }));
        Assert.True(await HasPasswordAsync(factory, user.Id, Password));
    }

    [Fact]
    public async Task VerificationAndChangeLinks_Expired_GetTheFriendlyPage_AndChangeNothing()
    {
        var user = await CreateUserAsync(factory, "expired-email", emailVerified: false);
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync(user.UserName!, Password);
        await client.SubmitFormAsync(await client.NavigateAsync("/Account/Email"), "#verify-form");
        var verify = TestMailServer.Link(await factory.Mail.NextMailToAsync(user.Email!));
        await client.SubmitFormAsync(await client.NavigateAsync("/Account/Email"), "#change-form", new Dictionary<string, string> { ["Input.NewEmail"] = "expired-new@example.com" });
        var change = TestMailServer.Link(await factory.Mail.NextMailToAsync("expired-new@example.com"));
        var verifyForm = await client.NavigateAsync(Local(verify));
        var changeForm = await client.NavigateAsync(Local(change));
        Assert.Equal(HttpStatusCode.OK, verifyForm.StatusCode);
        Assert.Equal(HttpStatusCode.OK, changeForm.StatusCode);

        await WaitForExpiryAsync();
        await AssertInvalidLinkPageAsync(await client.NavigateAsync(Local(verify)));
        await AssertInvalidLinkPageAsync(await client.SubmitAsync(verifyForm));
        await AssertInvalidLinkPageAsync(await client.NavigateAsync(Local(change)));
        await AssertInvalidLinkPageAsync(await client.SubmitAsync(changeForm));
        var unchanged = await FindUserAsync(factory, user.Id);
        Assert.Equal(user.Email, unchanged.Email);
        Assert.False(unchanged.EmailConfirmed);
    }
}
