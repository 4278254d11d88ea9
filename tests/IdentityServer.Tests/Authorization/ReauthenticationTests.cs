using System.Net;
using IdentityServer.Authorization;
using IdentityServer.Data;
using IdentityServer.Sessions;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Authorization;

/// <summary>
/// prompt=login and max_age: the sign-in they ask for satisfies only the request that asked for it,
/// once. The return URL after the sign-in (with its re-authentication marker) opened again, changed,
/// used for another request or in another browser leads to the sign-in page, not to a code.
/// </summary>
public sealed class ReauthenticationTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Theory]
    [InlineData("prompt", "login")]
    [InlineData("max_age", "0")]
    public async Task Reauthentication_PostSignInUrlOpenedAgain_AsksForSignInAgain(string name, string value)
    {
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        var parameters = PortalRequest("again");
        parameters[name] = value;

        var (postSignInUrl, first) = await ReauthenticateAsync(client, parameters);
        Assert.Equal("again", AssertCode(first)["state"]);

        using var replay = await client.Http.GetAsync(new Uri(postSignInUrl, UriKind.Relative));
        AssertSentToSignIn(replay);
    }

    [Fact]
    public async Task Reauthentication_PostSignInUrlOpenedConcurrently_IssuesOneCode()
    {
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        var parameters = PortalRequest("race");
        parameters["prompt"] = "login";
        var (postSignInUrl, signedIn) = await SignInForAsync(client, parameters);
        signedIn.Dispose();

        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => client.Http.GetAsync(new Uri(postSignInUrl, UriKind.Relative))));

        Assert.Single(responses, static r => r.Headers.Location?.AbsoluteUri.StartsWith(TestSeed.PortalRedirectUri + "?code=", StringComparison.Ordinal) == true);
        Assert.Equal(3, responses.Count(static r => r.StatusCode == HttpStatusCode.Redirect && r.Headers.Location?.AbsolutePath == "/Account/Login"));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Reauthentication_MarkerWithOtherRequestParameters_AsksForSignInAgain()
    {
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        var parameters = PortalRequest("original");
        parameters["prompt"] = "login";
        var (postSignInUrl, signedIn) = await SignInForAsync(client, parameters);
        signedIn.Dispose();

        // The same marker with another state (any other parameter would do): not the request it was made for.
        using var changed = await client.Http.GetAsync(new Uri(postSignInUrl.Replace("state=original", "state=changed", StringComparison.Ordinal), UriKind.Relative));
        AssertSentToSignIn(changed);

        // The untouched URL still completes the request the sign-in was made for.
        using var genuine = await client.Http.GetAsync(new Uri(postSignInUrl, UriKind.Relative));
        AssertCode(genuine);
    }

    [Fact]
    public async Task Reauthentication_MarkerOfOneRequest_DoesNotSatisfyAnother()
    {
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync();
        var first = PortalRequest("first");
        first["prompt"] = "login";
        var second = PortalRequest("second");
        second["prompt"] = "login";

        // Both requests send the user to sign in; the sign-in is made for the first one only.
        using var secondChallenge = await client.GetAuthorizeAsync(second);
        var secondReturnUrl = ReturnUrlOf(secondChallenge);
        var (firstPostSignInUrl, signedIn) = await SignInForAsync(client, first);
        signedIn.Dispose();

        // The second request with its own marker: this sign-in was not made for it.
        using var own = await client.Http.GetAsync(new Uri(secondReturnUrl, UriKind.Relative));
        AssertSentToSignIn(own);

        // The second request with the first request's marker: the parameters differ.
        var firstMarker = QueryHelpers.ParseQuery(new Uri(IdentityServerFactory.BaseAddress, firstPostSignInUrl).Query)["reauth"].ToString();
        second["reauth"] = firstMarker;
        using var borrowed = await client.GetAuthorizeAsync(second);
        AssertSentToSignIn(borrowed);
    }

    [Fact]
    public async Task Reauthentication_PostSignInUrlInAnotherBrowser_AsksForSignIn()
    {
        using var victim = factory.CreateOidcClient();
        await victim.SignInThroughPortalAsync();
        var parameters = PortalRequest("copied");
        parameters["prompt"] = "login";
        var (postSignInUrl, signedIn) = await SignInForAsync(victim, parameters);
        signedIn.Dispose();

        // Another browser, signed in as well, but its sign-in was not made for this marker.
        using var other = factory.CreateOidcClient();
        await other.SignInThroughPortalAsync();
        using var response = await other.Http.GetAsync(new Uri(postSignInUrl, UriKind.Relative));
        AssertSentToSignIn(response);
    }

    [Fact]
    public async Task Reauthentication_WithConsentPage_IssuesOneCodeAfterConsent()
    {
        // The marker must survive the consent page and be used up only when the code is issued.
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync(TestSeed.SecondUserName, TestSeed.SecondUserPassword);
        var parameters = OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid profile", Pkce.Create(), state: "consent");
        parameters["prompt"] = "login";

        var (postSignInUrl, consentPage) = await ReauthenticateAsync(client, parameters, TestSeed.SecondUserName, TestSeed.SecondUserPassword);
        Assert.Equal(HttpStatusCode.OK, consentPage.StatusCode);
        using var accepted = await client.SubmitAsync(consentPage, button: "accept");
        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        Assert.StartsWith(TestSeed.WebRedirectUri + "?code=", accepted.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);

        // The consent form posted again: used up.
        using var reposted = await client.SubmitAsync(consentPage, button: "accept");
        AssertSentToSignIn(reposted);
        using var replay = await client.Http.GetAsync(new Uri(postSignInUrl, UriKind.Relative));
        AssertSentToSignIn(replay);
    }

    [Fact]
    public async Task Reauthentication_CookieRenewalWritingBackAnOlderTicket_DoesNotBringTheMarkerBack()
    {
        // A sliding cookie renewal writes back the ticket as its request read it, possibly before the
        // marker in it was used up: the marker must not come back with it.
        var userId = await Admin.AdminTestHelpers.CreateUserAsync(factory, "renewal-user");
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync("renewal-user", Admin.AdminTestHelpers.Password);
        var parameters = PortalRequest("renewal");
        parameters["prompt"] = "login";
        var (postSignInUrl, signedIn) = await SignInForAsync(client, parameters, "renewal-user", Admin.AdminTestHelpers.Password);
        signedIn.Dispose();
        var (sessionId, readBefore) = await factory.WithScopeAsync(async services =>
        {
            var session = await services.GetRequiredService<ApplicationDbContext>().Sessions
                .SingleAsync(s => s.UserId == userId && s.EndedAt == null);
            return (session.Id, TicketSerializer.Default.Deserialize(session.Ticket!)!);
        });
        Assert.True(readBefore.Principal.HasClaim(static c => c.Type == ReauthenticationMarkers.SatisfiedClaim));

        using (var used = await client.Http.GetAsync(new Uri(postSignInUrl, UriKind.Relative)))
        {
            AssertCode(used);
        }
        await factory.WithScopeAsync(async services =>
        {
            await new SessionTicketStore().RenewAsync(sessionId, readBefore, new DefaultHttpContext { RequestServices = services }, CancellationToken.None);
            return true;
        });

        using var replay = await client.Http.GetAsync(new Uri(postSignInUrl, UriKind.Relative));
        AssertSentToSignIn(replay);
    }

    [Fact]
    public async Task Reauthentication_CookieWriteCarryingAMarker_StoresTheTicketWithoutIt()
    {
        // Only the sign-in records a marker (a conditional update of the stored ticket): whatever
        // ticket the cookie handler writes, a renewal or a sign-in, the session keeps no marker from it.
        var userId = await Admin.AdminTestHelpers.CreateUserAsync(factory, "cookie-write-user");
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync("cookie-write-user", Admin.AdminTestHelpers.Password);
        var (sessionId, ticket) = await StoredTicketAsync(userId);
        ticket.Principal.Identities.First().AddClaim(new System.Security.Claims.Claim(ReauthenticationMarkers.SatisfiedClaim, "written-by-a-cookie"));

        await factory.WithScopeAsync(async services =>
        {
            await new SessionTicketStore().RenewAsync(sessionId, ticket, new DefaultHttpContext { RequestServices = services }, CancellationToken.None);
            return true;
        });

        Assert.False((await StoredTicketAsync(userId)).Ticket.Principal.HasClaim(static c => c.Type == ReauthenticationMarkers.SatisfiedClaim));
    }

    private Task<(string SessionId, AuthenticationTicket Ticket)> StoredTicketAsync(string userId) => factory.WithScopeAsync(async services =>
    {
        var session = await services.GetRequiredService<ApplicationDbContext>().Sessions.AsNoTracking()
            .SingleAsync(s => s.UserId == userId && s.EndedAt == null);
        return (session.Id, TicketSerializer.Default.Deserialize(session.Ticket!)!);
    });

    internal static Dictionary<string, string?> PortalRequest(string state) =>
        OidcTestClient.CodeRequest(TestSeed.ImplicitConsentClientId, TestSeed.PortalRedirectUri, "openid", null, state: state);

    /// <summary>Authorize → sign-in page → sign in; returns the URL the sign-in sends back to (not yet opened) and the sign-in's redirect.</summary>
    internal static async Task<(string PostSignInUrl, HttpResponseMessage SignedIn)> SignInForAsync(
        OidcTestClient client, Dictionary<string, string?> parameters, string login = TestSeed.UserName, string password = TestSeed.UserPassword)
    {
        var page = await client.NavigateAsync(OidcTestClient.AuthorizeUrl(parameters));
        Assert.Equal("/Account/Login", page.RequestMessage!.RequestUri!.AbsolutePath);
        var signedIn = await client.SubmitAsync(page, new Dictionary<string, string> { ["Input.Login"] = login, ["Input.Password"] = password });
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var postSignInUrl = signedIn.Headers.Location!.OriginalString;
        Assert.StartsWith("/connect/authorize?", postSignInUrl, StringComparison.Ordinal);
        return (postSignInUrl, signedIn);
    }

    /// <summary><see cref="SignInForAsync"/>, then the return URL opened once (the genuine round trip).</summary>
    internal static async Task<(string PostSignInUrl, HttpResponseMessage Result)> ReauthenticateAsync(
        OidcTestClient client, Dictionary<string, string?> parameters, string login = TestSeed.UserName, string password = TestSeed.UserPassword)
    {
        var (postSignInUrl, signedIn) = await SignInForAsync(client, parameters, login, password);
        return (postSignInUrl, await client.FollowLocalRedirectsAsync(signedIn));
    }

    internal static Dictionary<string, string> AssertCode(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith(TestSeed.PortalRedirectUri + "?code=", response.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);
        return OidcTestClient.Query(response.Headers.Location!);
    }

    internal static void AssertSentToSignIn(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Account/Login", response.Headers.Location!.AbsolutePath);
    }

    private static string ReturnUrlOf(HttpResponseMessage challenge)
    {
        AssertSentToSignIn(challenge);
        return QueryHelpers.ParseQuery(challenge.Headers.Location!.Query)["ReturnUrl"].ToString();
    }
}
