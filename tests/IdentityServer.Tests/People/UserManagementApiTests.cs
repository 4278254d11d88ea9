using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Email.AccountMailSteps;
using static IdentityServer.Tests.People.PeopleSteps;

namespace IdentityServer.Tests.People;

/// <summary>The admin API's account creation and changes: bad input, roles and claims in tokens and userinfo, the admin's reset mail.</summary>
public sealed class UserManagementApiTests(MailServerFactory factory) : IClassFixture<MailServerFactory>
{
    private static readonly string[] AdminRole = ["admin"];

    public static TheoryData<string, string> BadBodies => new()
    {
        { """{"email":"x1@example.com"}""", "userName" },
        { """{"userName":"","email":"x2@example.com"}""", "userName" },
        { """{"userName":"has space","email":"x3@example.com"}""", "userName" },
        { """{"userName":"x4"}""", "email" },
        { """{"userName":"x5","email":"not-an-address"}""", "email" },
        { """{"userName":"x5b","email":"x5b..dots@example.com"}""", "email" },
        { """{"userName":"x6","email":"x6@example.com","roles":["no-such-role"]}""", "roles" },
        { """{"userName":"x7","email":"x7@example.com","roles":[null]}""", "roles" },
        { """{"userName":"x8","email":"x8@example.com","claims":[{"type":"role","value":"admin"}]}""", "claims" },
        { """{"userName":"x9","email":"x9@example.com","claims":[{"type":"preferred_username","value":"y"}]}""", "claims" },
        { """{"userName":"x10","email":"x10@example.com","claims":[{"type":"name","value":""}]}""", "claims" },
        { """{"userName":"x11","email":"x11@example.com","claims":[{"type":"name","value":"a"},{"type":"name","value":"b"}]}""", "claims" },
        { """{"userName":"x12","email":"x12@example.com","claims":[null]}""", "claims" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task CreateUser_BadInput_400ValidationProblem_NothingCreated(string body, string field)
    {
        using var client = factory.CreateOidcClient();
        var before = await UserCountAsync(factory);
        var response = await SendJsonAsync(client, HttpMethod.Post, "/api/admin/users", null, raw: body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True((await JsonAsync(response)).GetProperty("errors").TryGetProperty(field, out _));
        Assert.Equal(before, await UserCountAsync(factory));
    }

    [Theory]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("""{"userName":5}""")]
    [InlineData("")]
    public async Task CreateUser_MalformedJson_400_NothingCreated(string body)
    {
        using var client = factory.CreateOidcClient();
        var before = await UserCountAsync(factory);
        var response = await SendJsonAsync(client, HttpMethod.Post, "/api/admin/users", null, raw: body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(before, await UserCountAsync(factory));
    }

    [Fact]
    public async Task CreateUser_DuplicateUserNameOrEmail_409_NothingCreated()
    {
        using var client = factory.CreateOidcClient();
        var before = await UserCountAsync(factory);
        foreach (var body in new object[]
        {
            new { userName = TestSeed.UserName, email = "someone-new@example.com" },
            new { userName = TestSeed.UserName.ToUpperInvariant(), email = "someone-new@example.com" },
            new { userName = "someone-new", email = TestSeed.UserEmail.ToUpperInvariant() },
        })
        {
            var response = await CreateUserAsync(client, body);
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal(before, await UserCountAsync(factory));
        Assert.Null(await factory.Mail.TryNextMailToAsync("someone-new@example.com", TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task CreateUser_WithoutAdminCredential_401Or403_NothingCreated()
    {
        using var client = factory.CreateOidcClient();
        var before = await UserCountAsync(factory);
        var worker = await client.ClientCredentialsAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await CreateUserAsync(client, new { userName = "nope", email = "nope@example.com" }, worker["access_token"])).StatusCode);
        using var anonymous = new HttpRequestMessage(HttpMethod.Post, "/api/admin/users") { Content = System.Net.Http.Json.JsonContent.Create(new { userName = "nope", email = "nope@example.com" }) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.Http.SendAsync(anonymous)).StatusCode);
        Assert.Equal(before, await UserCountAsync(factory));
    }

    [Fact]
    public async Task UpdateUser_ClaimsAndRoles_ReflectedInUserinfoAndRefreshedIdToken_Audited()
    {
        using var client = factory.CreateOidcClient();
        var id = await CreateWithPasswordAsync(client, "edit-gina");
        var tokens = await AdminTestHelpers.CodeFlowAsync(factory.CreateOidcClient(), "edit-gina", InvitedPassword);
        Assert.Null(await UserInfoNameAsync(client, tokens["access_token"]!));

        var patched = await SendJsonAsync(client, HttpMethod.Patch, $"/api/admin/users/{id}",
            new { roles = AdminRole, claims = new[] { new { type = "name", value = "Gina Edited" }, new { type = "locale", value = "de-CH" } } });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var body = await JsonAsync(patched);
        Assert.Equal(["admin"], body.GetProperty("roles").EnumerateArray().Select(static r => r.GetString()));
        Assert.Equal(2, body.GetProperty("claims").GetArrayLength());

        // Userinfo reads the account as it is now; a refresh builds the ID token from it too.
        Assert.Equal("Gina Edited", await UserInfoNameAsync(client, tokens["access_token"]!));
        var refreshed = await client.RefreshAsync(tokens["refresh_token"]!);
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        var idToken = Jwt.Payload(refreshed["id_token"]!);
        Assert.Equal("Gina Edited", idToken.GetProperty("name").GetString());
        Assert.Equal("de-CH", idToken.GetProperty("locale").GetString());
        // Roles never go to the ID token (no standard scope covers them).
        Assert.False(idToken.TryGetProperty("role", out _));

        // The new role counts at the next sign-in: the admin pages open.
        using var browser = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(browser, "edit-gina", InvitedPassword));
        Assert.Equal(HttpStatusCode.OK, (await browser.NavigateAsync("/Admin")).StatusCode);

        // Claims given replace the editable ones; roles not given stay.
        var cleared = await SendJsonAsync(client, HttpMethod.Patch, $"/api/admin/users/{id}", new { claims = Array.Empty<object>() });
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        Assert.Equal(0, (await JsonAsync(cleared)).GetProperty("claims").GetArrayLength());
        Assert.Equal(1, (await JsonAsync(cleared)).GetProperty("roles").GetArrayLength());
        Assert.Null(await UserInfoNameAsync(client, tokens["access_token"]!));

        Assert.Equal("roles: admin", Assert.Single(await EventsAsync(factory, SecurityEventTypes.UserRolesChanged, id)).Detail);
        var claimEvents = await EventsAsync(factory, SecurityEventTypes.UserClaimsChanged, id);
        Assert.Equal(["claims: locale name", "claims: none"], claimEvents.Select(static e => e.Detail));
        Assert.All(claimEvents, static e => Assert.Equal(TestSeed.AdminClientId, e.Actor));
    }

    [Fact]
    public async Task UpdateUser_BadInput_400_UnknownUser_404_NothingChanged()
    {
        using var client = factory.CreateOidcClient();
        var id = await CreateWithPasswordAsync(client, "edit-hank");
        var bad = await SendJsonAsync(client, HttpMethod.Patch, $"/api/admin/users/{id}",
            new { roles = AdminRole, claims = new[] { new { type = "email", value = "x@example.com" } } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await SendJsonAsync(client, HttpMethod.Patch, $"/api/admin/users/{id}", null, raw: "{")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendJsonAsync(client, HttpMethod.Patch, "/api/admin/users/no-such-user", new { roles = Array.Empty<string>() })).StatusCode);
        var roles = await factory.WithScopeAsync(async services =>
        {
            var users = services.GetRequiredService<UserManager<ApplicationUser>>();
            return await users.GetRolesAsync((await users.FindByIdAsync(id))!);
        });
        Assert.Empty(roles);
        Assert.Empty(await EventsAsync(factory, SecurityEventTypes.UserRolesChanged, id));
    }

    [Fact]
    public async Task UpdateUser_AdminRemovingOwnAdminRole_409()
    {
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        var aliceId = await AdminTestHelpers.UserIdAsync(factory, TestSeed.UserName);
        var antiforgery = await AdminTestHelpers.AntiforgeryTokenAsync(client, $"/Admin/Users/{aliceId}");
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/admin/users/{aliceId}") { Content = System.Net.Http.Json.JsonContent.Create(new { roles = Array.Empty<string>() }) };
        request.Headers.Add("RequestVerificationToken", antiforgery);
        var response = await client.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.NavigateAsync("/Admin")).StatusCode);
    }

    [Fact]
    public async Task SendPasswordReset_ByAdmin_MailsAWorkingLink_Audited()
    {
        using var client = factory.CreateOidcClient();
        var id = await CreateWithPasswordAsync(client, "reset-ivan");
        var response = await SendJsonAsync(client, HttpMethod.Post, $"/api/admin/users/{id}/send-password-reset", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var mail = await factory.Mail.NextMailToAsync("reset-ivan@example.com");
        Assert.Equal("Identity Provider: Choose a new password", mail.Subject);
        var link = TestMailServer.Link(mail);
        Assert.Equal("/Account/ResetPassword", link.AbsolutePath);
        var form = await client.NavigateAsync(Local(link));
        var done = await client.SubmitAsync(form, new Dictionary<string, string> { ["Input.NewPassword"] = "Admin-Sent-Passw0rd!", ["Input.ConfirmPassword"] = "Admin-Sent-Passw0rd!" });
        Assert.NotNull((await OidcTestClient.ParseAsync(done)).QuerySelector("#reset-done"));
        Assert.True(await HasPasswordAsync(factory, id, "Admin-Sent-Passw0rd!"));

        Assert.Equal(TestSeed.AdminClientId, Assert.Single(await EventsAsync(factory, SecurityEventTypes.PasswordResetSentByAdmin, id)).Actor);
        Assert.Equal(HttpStatusCode.NotFound, (await SendJsonAsync(client, HttpMethod.Post, "/api/admin/users/no-such-user/send-password-reset", null)).StatusCode);
        Assert.Empty(factory.SecretsInLogs());
    }

    /// <summary>An account created through the API whose invitation was accepted.</summary>
    [Fact]
    public async Task UpdateUser_AdminRoleTakenAway_EndsTheirSessions_AndTheAdminPagesAtOnce()
    {
        using var client = factory.CreateOidcClient();
        var id = await CreateWithPasswordAsync(client, "demoted-ida");
        Assert.Equal(HttpStatusCode.OK, (await SendJsonAsync(client, HttpMethod.Patch, $"/api/admin/users/{id}", new { roles = AdminRole })).StatusCode);
        using var ida = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(ida, "demoted-ida", InvitedPassword));
        Assert.Equal(HttpStatusCode.OK, (await ida.Http.GetAsync(new Uri("/Admin", UriKind.Relative))).StatusCode);

        var patched = await SendJsonAsync(client, HttpMethod.Patch, $"/api/admin/users/{id}", new { roles = Array.Empty<string>() });

        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var session = Assert.Single(await AdminTestHelpers.SessionsAsync(factory, id));
        Assert.Equal(IdentityServer.Sessions.SessionEndReasons.AdminRoleRemoved, session.EndReason);
        using var after = await ida.Http.GetAsync(new Uri("/Admin", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Equal("/Account/Login", new Uri(IdentityServerFactory.BaseAddress, after.Headers.Location!).AbsolutePath);
    }

    private async Task<string> CreateWithPasswordAsync(OidcTestClient client, string userName)
    {
        var response = await CreateUserAsync(client, new { userName, email = userName + "@example.com" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await JsonAsync(response)).GetProperty("id").GetString()!;
        var link = TestMailServer.Link(await factory.Mail.NextMailToAsync(userName + "@example.com"));
        Assert.NotNull((await OidcTestClient.ParseAsync(await AcceptAsync(client, link))).QuerySelector("#invitation-accepted"));
        return id;
    }

    private static async Task<string?> UserInfoNameAsync(OidcTestClient client, string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        var response = await TokenResponse.ReadAsync(await client.Http.SendAsync(request));
        Assert.Equal(HttpStatusCode.OK, response.Status);
        return response.Json.TryGetProperty("name", out var name) ? name.GetString() : null;
    }
}
