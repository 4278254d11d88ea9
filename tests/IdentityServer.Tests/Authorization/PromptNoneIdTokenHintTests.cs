using System.Net;
using IdentityServer.Tests.Infrastructure;
using static IdentityServer.Tests.Authorization.AuthorizationErrorRedirectTests;

namespace IdentityServer.Tests.Authorization;

/// <summary>OpenID Connect Core 3.1.2.1: prompt=none with an id_token_hint succeeds only for the user the hint names.</summary>
public sealed class PromptNoneIdTokenHintTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task PromptNone_IdTokenHintOfAnotherUser_RedirectsLoginRequired()
    {
        using var bob = factory.CreateOidcClient();
        var bobsIdToken = await IdTokenAsync(bob, TestSeed.SecondUserName, TestSeed.SecondUserPassword);
        using var alice = factory.CreateOidcClient();
        await IdTokenAsync(alice, TestSeed.UserName, TestSeed.UserPassword);

        using var response = await alice.GetAuthorizeAsync(SilentRequest(bobsIdToken));

        var returned = AssertRedirected(response, TestSeed.WebRedirectUri, '?');
        Assert.Equal("login_required", returned["error"]);
        Assert.Equal("silent", returned["state"]);
        Assert.Equal("https://localhost/", returned["iss"]);
        Assert.False(returned.ContainsKey("code"));
    }

    [Fact]
    public async Task PromptNone_IdTokenHintOfTheSignedInUser_IssuesCode()
    {
        using var alice = factory.CreateOidcClient();
        var idToken = await IdTokenAsync(alice, TestSeed.UserName, TestSeed.UserPassword);

        using var response = await alice.GetAuthorizeAsync(SilentRequest(idToken));

        var returned = AssertRedirected(response, TestSeed.WebRedirectUri, '?');
        Assert.Contains("code", returned.Keys);
        Assert.Equal("silent", returned["state"]);
    }

    [Fact]
    public async Task PromptNone_IdTokenHintWhileNobodyIsSignedIn_RedirectsLoginRequired()
    {
        using var signedIn = factory.CreateOidcClient();
        var idToken = await IdTokenAsync(signedIn, TestSeed.UserName, TestSeed.UserPassword);
        using var anonymous = factory.CreateOidcClient();

        using var response = await anonymous.GetAuthorizeAsync(SilentRequest(idToken));

        var returned = AssertRedirected(response, TestSeed.WebRedirectUri, '?');
        Assert.Equal("login_required", returned["error"]);
        Assert.Equal("silent", returned["state"]);
    }

    [Fact]
    public async Task PromptNone_IdTokenHintThatIsNoValidToken_RedirectsLoginRequired()
    {
        // OpenIddict ignores an id_token_hint it cannot validate; a silent request cannot confirm the user then.
        using var alice = factory.CreateOidcClient();
        await IdTokenAsync(alice, TestSeed.UserName, TestSeed.UserPassword);

        using var response = await alice.GetAuthorizeAsync(SilentRequest("not-a-token"));

        var returned = AssertRedirected(response, TestSeed.WebRedirectUri, '?');
        Assert.Equal("login_required", returned["error"]);
        Assert.Equal("silent", returned["state"]);
    }

    private static Dictionary<string, string?> SilentRequest(string idTokenHint)
    {
        var parameters = OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", Pkce.Create(), state: "silent");
        parameters["prompt"] = "none";
        parameters["id_token_hint"] = idTokenHint;
        return parameters;
    }

    /// <summary>Signs the user in to the shop (consenting) in this browser and returns the ID token.</summary>
    private static async Task<string> IdTokenAsync(OidcTestClient client, string login, string password)
    {
        var pkce = Pkce.Create();
        var redirect = await client.AuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", pkce), login, password);
        var tokens = await client.TokenAsync(
            ("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]), ("redirect_uri", TestSeed.WebRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        return tokens["id_token"]!;
    }
}
