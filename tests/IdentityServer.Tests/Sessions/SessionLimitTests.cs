using System.Net;
using IdentityServer.Audit;
using IdentityServer.Sessions;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Sessions;

public sealed class TwoSessionsEndOldestFactory : IdentityServerFactory
{
    public TwoSessionsEndOldestFactory()
    {
        Settings["Sessions:MaxPerUser"] = "2";
        Settings["Sessions:WhenLimitReached"] = "EndOldest";
    }
}

public sealed class TwoSessionsDenyFactory : IdentityServerFactory
{
    public TwoSessionsDenyFactory()
    {
        Settings["Sessions:MaxPerUser"] = "2";
        Settings["Sessions:WhenLimitReached"] = "Deny";
    }
}

public sealed class SessionLimitEndOldestTests(TwoSessionsEndOldestFactory factory) : IClassFixture<TwoSessionsEndOldestFactory>
{
    [Fact]
    public async Task ThirdDevice_EndsTheOldestSession_WithItsTokens()
    {
        using var first = factory.CreateOidcClient();
        using var second = factory.CreateOidcClient();
        using var third = factory.CreateOidcClient();
        var firstTokens = await first.CodeFlowAsync();
        var secondTokens = await second.CodeFlowAsync();
        var thirdTokens = await third.CodeFlowAsync();

        Assert.Equal("invalid_grant", (await first.RefreshAsync(firstTokens["refresh_token"]!)).Error);
        Assert.False(await first.IsActiveAsync(firstTokens["access_token"]!));
        Assert.Equal(SessionEndReasons.SessionLimit, (await SessionProbe.FindAsync(factory, SessionProbe.Sid(firstTokens["id_token"]!)))!.EndReason);
        Assert.Equal(HttpStatusCode.OK, (await second.RefreshAsync(secondTokens["refresh_token"]!)).Status);
        Assert.Equal(HttpStatusCode.OK, (await third.RefreshAsync(thirdTokens["refresh_token"]!)).Status);
        var active = (await SessionProbe.ForUserAsync(factory, TestSeed.UserName)).Where(s => s.EndedAt is null).ToList();
        Assert.Equal(2, active.Count);
    }
}

public sealed class SessionLimitDenyTests(TwoSessionsDenyFactory factory) : IClassFixture<TwoSessionsDenyFactory>
{
    [Fact]
    public async Task ThirdDevice_IsRefusedWithAMessage_AndTheOthersKeepWorking()
    {
        using var first = factory.CreateOidcClient();
        using var second = factory.CreateOidcClient();
        using var third = factory.CreateOidcClient();
        var firstTokens = await first.CodeFlowAsync();
        await second.CodeFlowAsync();

        var login = await third.NavigateAsync("/Account/Login");
        using var refused = await third.SignInAsync(login, TestSeed.UserName, TestSeed.UserPassword);

        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Equal("/Account/Login", refused.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Contains("too many devices", (await OidcTestClient.ParseAsync(refused)).QuerySelector(".error")!.TextContent, StringComparison.Ordinal);
        using var stillAnonymous = await third.Http.GetAsync(new Uri("/Account/Sessions", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, stillAnonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await first.RefreshAsync(firstTokens["refresh_token"]!)).Status);
        var failures = await factory.WithScopeAsync(services => Task.FromResult(
            Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<IdentityServer.Data.ApplicationDbContext>(services)
                .SecurityEvents.Count(e => e.Type == SecurityEventTypes.SignInFailed && e.Detail == "session_limit")));
        Assert.Equal(1, failures);
    }
}
