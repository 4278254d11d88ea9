using System.Net;
using IdentityServer.Audit;
using IdentityServer.Tests.Infrastructure;
using static IdentityServer.Tests.Email.AccountMailSteps;
using static IdentityServer.Tests.People.PeopleSteps;

namespace IdentityServer.Tests.People;

/// <summary>An invitation link past <c>Accounts:InvitationLinkLifetime</c> gets the friendly page and changes nothing.</summary>
public sealed class ExpiredInvitationTests(ShortInvitationFactory factory) : IClassFixture<ShortInvitationFactory>
{
    [Fact]
    public async Task InvitationLink_Expired_FriendlyPage_NothingChanged()
    {
        using var client = factory.CreateOidcClient();
        var response = await CreateUserAsync(client, new { userName = "late-judy", email = "late-judy@example.com" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await JsonAsync(response)).GetProperty("id").GetString()!;
        var mail = await factory.Mail.NextMailToAsync("late-judy@example.com");
        Assert.Contains("for 1 second", mail.TextBody, StringComparison.Ordinal);
        var link = TestMailServer.Link(mail);

        // Identity's token provider reads the system clock: the test waits the lifetime out.
        await Task.Delay(TimeSpan.FromSeconds(2.2));
        await AssertInvalidLinkPageAsync(await client.NavigateAsync(Local(link)));
        await AssertInvalidLinkPageAsync(await PostLinkAsync(client, link, new Dictionary<string, string> { ["Input.NewPassword"] = InvitedPassword, ["Input.ConfirmPassword"] = InvitedPassword }));
        var user = await FindUserAsync(factory, id);
        Assert.Null(user.PasswordHash);
        Assert.False(user.EmailConfirmed);
        Assert.Empty(await EventsAsync(factory, SecurityEventTypes.InvitationAccepted, id));
    }
}
