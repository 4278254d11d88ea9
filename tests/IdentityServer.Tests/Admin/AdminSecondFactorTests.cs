using System.Net;
using IdentityServer.Audit;
using IdentityServer.Sessions;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Sessions;
using IdentityServer.Tests.TwoFactor;
using static IdentityServer.Tests.TwoFactor.TwoFactorSteps;

namespace IdentityServer.Tests.Admin;

/// <summary>
/// Administrators see whether an account has an authenticator and how many recovery codes are
/// left, and reset its second factors (for a user who lost the phone): API and pages, audited.
/// </summary>
public sealed class AdminSecondFactorTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task Api_ResetSecondFactors_TurnsOffDeletesCodesEndsSessionsAndIsAudited()
    {
        using var user = factory.CreateOidcClient();
        var (id, _, _) = await EnrolledAccountAsync(factory, user, "admin-2fa-api");
        using var client = factory.CreateOidcClient();
        var token = await AdminTestHelpers.AdminTokenAsync(client);

        using var before = await AdminTestHelpers.SendAsync(client.Http, HttpMethod.Get, $"/api/admin/users/{id}", token);
        var details = await AdminTestHelpers.JsonAsync(before);
        Assert.True(details.GetProperty("authenticatorEnabled").GetBoolean());
        Assert.Equal(10, details.GetProperty("recoveryCodesLeft").GetInt32());

        using var reset = await AdminTestHelpers.SendAsync(client.Http, HttpMethod.Post, $"/api/admin/users/{id}/reset-second-factors", token);

        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.Equal(1, (await AdminTestHelpers.JsonAsync(reset)).GetProperty("ended").GetInt32());
        using var after = await AdminTestHelpers.SendAsync(client.Http, HttpMethod.Get, $"/api/admin/users/{id}", token);
        details = await AdminTestHelpers.JsonAsync(after);
        Assert.False(details.GetProperty("authenticatorEnabled").GetBoolean());
        Assert.Equal(0, details.GetProperty("recoveryCodesLeft").GetInt32());
        Assert.All(await AdminTestHelpers.SessionsAsync(factory, id), static s => Assert.Equal(SessionEndReasons.SecondFactorChanged, s.EndReason));
        using var events = await AdminTestHelpers.SendAsync(client.Http, HttpMethod.Get, $"/api/admin/events?userId={id}&type=second_factors_reset", token);
        var entry = Assert.Single((await AdminTestHelpers.JsonAsync(events)).EnumerateArray());
        Assert.Equal(TestSeed.AdminClientId, entry.GetProperty("actor").GetString());
        // The password alone signs in again; the user may set up a new authenticator.
        using var later = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(later, "admin-2fa-api"));

        using var unknown = await AdminTestHelpers.SendAsync(client.Http, HttpMethod.Post, "/api/admin/users/no-such-user/reset-second-factors", token);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Api_ResetOwnSecondFactors_IsRefusedWith409()
    {
        using var admin = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(admin, TestSeed.UserName, TestSeed.UserPassword));
        var id = await AdminTestHelpers.UserIdAsync(factory, TestSeed.UserName);
        var antiforgery = await AdminTestHelpers.AntiforgeryTokenAsync(admin, $"/Admin/Users/{id}");

        using var reset = await AdminTestHelpers.SendAsync(admin.Http, HttpMethod.Post, $"/api/admin/users/{id}/reset-second-factors", antiforgery: antiforgery);

        Assert.Equal(HttpStatusCode.Conflict, reset.StatusCode);
        Assert.DoesNotContain(await EventsAsync(factory, id), static e => e.Type == SecurityEventTypes.SecondFactorsReset);
    }

    [Fact]
    public async Task Page_ShowsTheSecondFactors_AndResetsThem()
    {
        using var user = factory.CreateOidcClient();
        var (id, _, _) = await EnrolledAccountAsync(factory, user, "admin-2fa-page");
        using var admin = factory.CreateOidcClient();
        Assert.True(await AdminTestHelpers.TrySignInAsync(admin, TestSeed.UserName, TestSeed.UserPassword));

        using var page = await admin.NavigateAsync($"/Admin/Users/{id}");
        var document = await OidcTestClient.ParseAsync(page);
        Assert.Equal("On", document.QuerySelector("#authenticator-state")!.TextContent);
        Assert.Equal("10", document.QuerySelector("#recovery-codes-left")!.TextContent);

        using var reset = await admin.FollowLocalRedirectsAsync(await admin.SubmitFormAsync(page, "#reset-second-factors-form"));

        document = await OidcTestClient.ParseAsync(reset);
        Assert.Equal("The second factors were reset and 1 sessions were ended.", document.QuerySelector("#admin-message")!.TextContent);
        Assert.Equal("Off", document.QuerySelector("#authenticator-state")!.TextContent);
        Assert.Null(document.QuerySelector("#reset-second-factors-form"));
        Assert.Contains(await EventsAsync(factory, id), static e => e.Type == SecurityEventTypes.SecondFactorsReset);
        Assert.False((await AccountAsync(factory, id)).TwoFactorEnabled);
    }
}
