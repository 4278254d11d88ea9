using System.Net;
using IdentityServer.Tests.Infrastructure;
using static IdentityServer.Tests.People.PeopleSteps;

namespace IdentityServer.Tests.People;

/// <summary>Registration is off unless configured: no page, no link.</summary>
public sealed class RegistrationOffTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task Register_Off_404_NoLinkOnTheSignInPage()
    {
        using var client = factory.CreateOidcClient();
        Assert.Equal(HttpStatusCode.NotFound, (await client.NavigateAsync("/Account/Register")).StatusCode);
        var login = await client.NavigateAsync("/Account/Login");
        Assert.Null((await OidcTestClient.ParseAsync(login)).QuerySelector("a#register"));
        var token = (await OidcTestClient.ParseAsync(login)).QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        var before = await UserCountAsync(factory);
        var post = await client.Http.PostAsync(new Uri("/Account/Register", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["Input.UserName"] = "nobody", ["Input.Email"] = "nobody@example.com",
            ["Input.Password"] = InvitedPassword, ["Input.ConfirmPassword"] = InvitedPassword,
        }));
        Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        Assert.Equal(before, await UserCountAsync(factory));
    }
}
