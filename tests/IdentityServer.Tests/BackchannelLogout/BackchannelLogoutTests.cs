using System.Net;
using System.Text.Json;
using IdentityServer.BackchannelLogout;
using IdentityServer.Sessions;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Quartz;

namespace IdentityServer.Tests.BackchannelLogout;

public sealed class BackchannelLogoutTests(BackchannelLogoutFactory factory) : IClassFixture<BackchannelLogoutFactory>
{
    private LogoutReceiver Receiver => factory.Receiver;

    [Fact]
    public async Task Discovery_Always_AdvertisesBackchannelLogoutWithSessionId()
    {
        using var client = factory.CreateBrowserlikeClient();
        var json = JsonDocument.Parse(await client.GetStringAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative))).RootElement;
        Assert.True(json.GetProperty("backchannel_logout_supported").GetBoolean());
        Assert.True(json.GetProperty("backchannel_logout_session_supported").GetBoolean());
    }

    [Fact]
    public async Task Logout_RpInitiated_QueuesWithoutCallingTheClientThenTheJobDeliversOneVerifiedTokenPerClient()
    {
        Receiver.Clear();
        using var browser = factory.CreateOidcClient();
        var shop = await BackchannelLogoutFactory.SignInAsync(browser, BackchannelLogoutFactory.Shop);
        var notes = await BackchannelLogoutFactory.SignInAsync(browser, BackchannelLogoutFactory.Notes);
        // The portal takes part too but registered no back-channel URI.
        await BackchannelLogoutFactory.SignInAsync(browser, BackchannelLogoutFactory.Portal);
        var idToken = Jwt.Payload(shop["id_token"]!);
        var sessionId = idToken.GetProperty("sid").GetString()!;
        Assert.Equal(sessionId, Jwt.Payload(notes["id_token"]!).GetProperty("sid").GetString());

        var url = QueryHelpers.AddQueryString("/connect/endsession", new Dictionary<string, string?>
        {
            ["id_token_hint"] = shop["id_token"],
            ["post_logout_redirect_uri"] = BackchannelLogoutFactory.ShopPostLogoutRedirectUri,
        });
        using var confirmation = await browser.NavigateAsync(url);
        using var done = await browser.SubmitAsync(confirmation, button: "confirm-sign-out");
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);

        // The ending request queued the notifications and called nobody: the scheduler is off here,
        // so any receipt now could only have come from the request itself.
        Assert.NotEqual(SchedulerStatus.Running, (await factory.Services.GetRequiredService<ISchedulerFactory>().GetScheduler()).Status);
        var queued = await factory.DeliveriesAsync(sessionId);
        Assert.Equal([BackchannelLogoutFactory.Notes, BackchannelLogoutFactory.Shop], queued.Select(d => d.ClientId));
        Assert.All(queued, d => Assert.Equal(BackchannelLogoutStatus.Pending, d.Status));
        Assert.Empty(Receiver.Receipts);

        var result = await factory.RunJobAsync();

        Assert.Equal(new BackchannelLogoutResult(2, 0, 0), result);
        var receipts = Receiver.Receipts;
        Assert.Equal([BackchannelLogoutFactory.Notes, BackchannelLogoutFactory.Shop], receipts.Select(r => r.Client).Order());
        foreach (var receipt in receipts)
        {
            await AssertLogoutTokenAsync(receipt, sessionId, idToken.GetProperty("sub").GetString()!);
        }
        var delivered = await factory.DeliveriesAsync(sessionId);
        Assert.All(delivered, d =>
        {
            Assert.Equal(BackchannelLogoutStatus.Delivered, d.Status);
            Assert.NotNull(d.CompletedAt);
            Assert.Equal(0, d.Attempts);
            Assert.Null(d.LastError);
        });

        // Delivered once: a second run has nothing to send.
        Assert.Equal(new BackchannelLogoutResult(0, 0, 0), await factory.RunJobAsync());
        Assert.Equal(2, Receiver.Receipts.Count);
    }

    [Fact]
    public async Task Logout_SessionEndedByAdmin_NotifiesOnlyTheClientsOfThatSession()
    {
        Receiver.Clear();
        using var first = factory.CreateOidcClient();
        using var second = factory.CreateOidcClient();
        var shop = await BackchannelLogoutFactory.SignInAsync(first, BackchannelLogoutFactory.Shop);
        var notes = await BackchannelLogoutFactory.SignInAsync(second, BackchannelLogoutFactory.Notes);
        var sessionId = Jwt.Payload(shop["id_token"]!).GetProperty("sid").GetString()!;
        Assert.NotEqual(sessionId, Jwt.Payload(notes["id_token"]!).GetProperty("sid").GetString());

        var ended = await factory.WithScopeAsync(services => services.GetRequiredService<SessionService>()
            .EndAsync(sessionId, SessionEndReasons.EndedByAdmin, "admin-1", CancellationToken.None));
        Assert.True(ended);
        Assert.Empty(Receiver.Receipts);

        Assert.Equal(new BackchannelLogoutResult(1, 0, 0), await factory.RunJobAsync());

        // The notes app (another session of the same user) and the wiki (no session at all) hear nothing.
        var receipt = Assert.Single(Receiver.Receipts);
        Assert.Equal(BackchannelLogoutFactory.Shop, receipt.Client);
        await AssertLogoutTokenAsync(receipt, sessionId, Jwt.Payload(shop["id_token"]!).GetProperty("sub").GetString()!);
        Assert.Equal(BackchannelLogoutStatus.Delivered, Assert.Single(await factory.DeliveriesAsync(sessionId)).Status);
    }

    [Fact]
    public async Task Logout_ClientThatNeverTookPart_GetsNothing()
    {
        Receiver.Clear();
        using var browser = factory.CreateOidcClient();
        var notes = await BackchannelLogoutFactory.SignInAsync(browser, BackchannelLogoutFactory.Notes);
        var sessionId = Jwt.Payload(notes["id_token"]!).GetProperty("sid").GetString()!;

        await factory.WithScopeAsync(services => services.GetRequiredService<SessionService>()
            .EndAsync(sessionId, SessionEndReasons.EndedByUser, "user", CancellationToken.None));
        await factory.RunJobAsync();

        Assert.Equal(BackchannelLogoutFactory.Notes, Assert.Single(await factory.DeliveriesAsync(sessionId)).ClientId);
        Assert.DoesNotContain(Receiver.Receipts, r => r.Client is BackchannelLogoutFactory.Wiki or BackchannelLogoutFactory.Shop);
    }

    /// <summary>Checks the receipt as a client would (Back-Channel Logout 1.0, section 2.6).</summary>
    private async Task AssertLogoutTokenAsync(LogoutReceipt receipt, string sessionId, string subject)
    {
        Assert.Equal("application/x-www-form-urlencoded", receipt.ContentType?.Split(';')[0]);
        Assert.Equal(1, receipt.FormFields);

        using var http = factory.CreateBrowserlikeClient();
        var jwks = new JsonWebKeySet(await http.GetStringAsync(new Uri("/.well-known/jwks", UriKind.Relative)));
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(receipt.LogoutToken, new TokenValidationParameters
        {
            ValidIssuer = IdentityServerFactory.BaseAddress.AbsoluteUri,
            ValidAudience = receipt.Client,
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidTypes = ["logout+jwt"],
        });
        Assert.True(validation.IsValid, validation.Exception?.Message);

        Assert.Equal("logout+jwt", Jwt.Header(receipt.LogoutToken).GetProperty("typ").GetString());
        var payload = Jwt.Payload(receipt.LogoutToken);
        Assert.Equal(sessionId, payload.GetProperty("sid").GetString());
        Assert.Equal(subject, payload.GetProperty("sub").GetString());
        Assert.Equal(receipt.Client, payload.GetProperty("aud").GetString());
        var logoutEvent = payload.GetProperty("events").GetProperty("http://schemas.openid.net/event/backchannel-logout");
        Assert.Equal(JsonValueKind.Object, logoutEvent.ValueKind);
        Assert.Empty(logoutEvent.EnumerateObject());
        Assert.False(payload.TryGetProperty("nonce", out _));
        Assert.False(string.IsNullOrEmpty(payload.GetProperty("jti").GetString()));
        Assert.Equal(120, payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64());
    }
}
