using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Sessions;
using static IdentityServer.Tests.Email.AccountMailSteps;

namespace IdentityServer.Tests.Email;

/// <summary>Every mailed link lives one second here.</summary>
public sealed class ShortLinkFactory : MailServerFactory
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(1);

    public ShortLinkFactory()
    {
        foreach (var key in new[] { "PasswordResetLinkLifetime", "EmailVerificationLinkLifetime", "EmailChangeLinkLifetime" })
        {
            Settings["Accounts:" + key] = "00:00:01";
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
        Assert.Contains("for 1 second", mail.TextBody, StringComparison.Ordinal);
        var link = TestMailServer.Link(mail);

        await WaitForExpiryAsync();
        await AssertInvalidLinkPageAsync(await client.NavigateAsync(Local(link)));
        await AssertInvalidLinkPageAsync(await PostLinkAsync(client, link, new Dictionary<string, string> { ["Input.NewPassword"] = "Expired-Passw0rd!", ["Input.ConfirmPassword"] = "Expired-Passw0rd!" }));
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

        await WaitForExpiryAsync();
        await AssertInvalidLinkPageAsync(await client.NavigateAsync(Local(verify)));
        await AssertInvalidLinkPageAsync(await PostLinkAsync(client, verify));
        await AssertInvalidLinkPageAsync(await client.NavigateAsync(Local(change)));
        await AssertInvalidLinkPageAsync(await PostLinkAsync(client, change));
        var unchanged = await FindUserAsync(factory, user.Id);
        Assert.Equal(user.Email, unchanged.Email);
        Assert.False(unchanged.EmailConfirmed);
    }
}
