using System.Net;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Tests.Authorization;

/// <summary>
/// RFC 6749 4.1.2.1: once the client and its redirect_uri are valid, an authorization error goes back
/// to the client with state and iss (RFC 9207) in the requested response mode; before that it is
/// shown on our error page and nothing is redirected.
/// </summary>
public sealed class AuthorizationErrorRedirectTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    private const string Issuer = "https://localhost/";
    private const string State = "st-4.1.2.1";

    /// <summary>Changes to a valid request of the single-page app (name=value, or name= to leave the parameter out), and the error expected.</summary>
    public static TheoryData<string, string> ErrorsReturnedInTheQuery => new()
    {
        { "response_type=made_up", "unsupported_response_type" },
        { "scope=openid orders unknown-scope", "invalid_scope" },
        { "scope=openid email", "invalid_scope" }, // a scope the single-page app may not ask for
        { "code_challenge=&code_challenge_method=", "invalid_request" }, // a public client without PKCE
        { "code_challenge_method=plain", "invalid_request" },
        { "request=eyJhbGciOiJub25lIn0.e30.", "request_not_supported" },
        { "request_uri=https://spa.example/request.jwt", "request_uri_not_supported" },
        { "prompt=select_account", "invalid_request" },
        { "prompt=none login", "invalid_request" },
        { "prompt=made_up", "invalid_request" },
        { "max_age=abc", "invalid_request" },
        { "max_age=-1", "invalid_request" },
        { "max_age=1.5", "invalid_request" },
        { "response_mode=made_up", "invalid_request" },
        { "response_mode=query.jwt", "invalid_request" },
    };

    [Theory]
    [MemberData(nameof(ErrorsReturnedInTheQuery))]
    public async Task Authorize_InvalidRequestFromValidClientAndRedirectUri_RedirectsErrorStateAndIss(string changes, string error)
    {
        using var client = factory.CreateOidcClient();
        var parameters = OidcTestClient.CodeRequest(TestSeed.PublicClientId, TestSeed.PublicRedirectUri, "openid", Pkce.Create(), state: State);
        foreach (var change in changes.Split('&'))
        {
            var (name, value) = (change[..change.IndexOf('=', StringComparison.Ordinal)], change[(change.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            if (value.Length == 0)
            {
                parameters.Remove(name);
            }
            else
            {
                parameters[name] = value;
            }
        }

        using var response = await client.GetAuthorizeAsync(parameters);

        var returned = AssertRedirected(response, TestSeed.PublicRedirectUri, '?');
        Assert.Equal(error, returned["error"]);
        Assert.Equal(State, returned["state"]);
        Assert.Equal(Issuer, returned["iss"]);
        Assert.False(returned.ContainsKey("code"));
    }

    [Fact]
    public async Task Authorize_ConfidentialClientWithoutPkce_RedirectsInvalidRequest()
    {
        // Found after OpenIddict validated the redirect_uri (a client requirement), unlike the cases above.
        using var client = factory.CreateOidcClient();
        using var response = await client.GetAuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid", pkce: null, state: State));

        var returned = AssertRedirected(response, TestSeed.WebRedirectUri, '?');
        Assert.Equal("invalid_request", returned["error"]);
        Assert.Equal(State, returned["state"]);
        Assert.Equal(Issuer, returned["iss"]);
    }

    [Fact]
    public async Task Authorize_UnsupportedTokenResponseType_RedirectsInTheFragment()
    {
        // response_type=token would return tokens in the fragment: its error goes there too.
        using var client = factory.CreateOidcClient();
        var parameters = OidcTestClient.CodeRequest(TestSeed.PublicClientId, TestSeed.PublicRedirectUri, "openid", null, state: State);
        parameters["response_type"] = "token";
        using var response = await client.GetAuthorizeAsync(parameters);

        var returned = AssertRedirected(response, TestSeed.PublicRedirectUri, '#');
        Assert.Equal("unsupported_response_type", returned["error"]);
        Assert.Equal(State, returned["state"]);
        Assert.Equal(Issuer, returned["iss"]);
    }

    [Fact]
    public async Task Authorize_ErrorWithResponseModeFragment_RedirectsInTheFragment()
    {
        using var client = factory.CreateOidcClient();
        var parameters = OidcTestClient.CodeRequest(TestSeed.PublicClientId, TestSeed.PublicRedirectUri, "openid", Pkce.Create(), state: State);
        parameters["response_mode"] = "fragment";
        parameters["max_age"] = "abc";
        using var response = await client.GetAuthorizeAsync(parameters);

        var returned = AssertRedirected(response, TestSeed.PublicRedirectUri, '#');
        Assert.Equal("invalid_request", returned["error"]);
        Assert.Equal(State, returned["state"]);
        Assert.Equal(Issuer, returned["iss"]);
    }

    [Fact]
    public async Task Authorize_ErrorWithResponseModeFormPost_PostsErrorStateAndIssToTheClient()
    {
        using var client = factory.CreateOidcClient();
        var parameters = OidcTestClient.CodeRequest(TestSeed.PublicClientId, TestSeed.PublicRedirectUri, "openid", Pkce.Create(), state: State);
        parameters["response_mode"] = "form_post";
        parameters["prompt"] = "select_account";
        using var response = await client.GetAuthorizeAsync(parameters);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await OidcTestClient.ParseAsync(response);
        var form = Assert.Single(page.Forms);
        Assert.Equal(TestSeed.PublicRedirectUri, form.Action);
        Assert.Equal("post", form.Method, ignoreCase: true);
        string? Field(string name) => page.QuerySelector($"input[name={name}]")?.GetAttribute("value");
        Assert.Equal("invalid_request", Field("error"));
        Assert.Equal(State, Field("state"));
        Assert.Equal(Issuer, Field("iss"));
        Assert.Null(Field("code"));
    }

    [Fact]
    public async Task Authorize_PostedInvalidRequest_RedirectsLikeGet()
    {
        using var client = factory.CreateOidcClient();
        var parameters = OidcTestClient.CodeRequest(TestSeed.PublicClientId, TestSeed.PublicRedirectUri, "openid", Pkce.Create(), state: State);
        parameters["max_age"] = "1.5";
        using var response = await client.Http.PostAsync(new Uri("/connect/authorize", UriKind.Relative),
            new FormUrlEncodedContent(parameters.Select(static p => new KeyValuePair<string, string>(p.Key, p.Value!))));

        var returned = AssertRedirected(response, TestSeed.PublicRedirectUri, '?');
        Assert.Equal("invalid_request", returned["error"]);
        Assert.Equal(State, returned["state"]);
        Assert.Equal(Issuer, returned["iss"]);
    }

    [Fact]
    public async Task Authorize_UnknownClientWithInvalidRequest_ShowsErrorPageWithoutRedirect()
    {
        using var client = factory.CreateOidcClient();
        var parameters = OidcTestClient.CodeRequest("unknown-app", TestSeed.PublicRedirectUri, "openid", Pkce.Create(), state: State);
        parameters["max_age"] = "abc";
        using var response = await client.GetAuthorizeAsync(parameters);

        await OidcTestClient.AssertErrorPageAsync(response, "invalid_request");
    }

    [Theory]
    [InlineData("https://evil.example/callback")]
    [InlineData("http://127.0.0.1:7890/callback/other")]
    [InlineData("http://127.0.0.1:7890/callback?iss=https%3A%2F%2Flocalhost%2F")]
    [InlineData("http://127.0.0.1:7890/callback#x")]
    [InlineData("not a uri")]
    public async Task Authorize_UnregisteredRedirectUriWithInvalidRequest_ShowsErrorPageWithoutRedirect(string redirectUri)
    {
        using var client = factory.CreateOidcClient();
        var parameters = OidcTestClient.CodeRequest(TestSeed.PublicClientId, redirectUri, "openid", Pkce.Create(), state: State);
        parameters["response_type"] = "made_up";
        using var response = await client.GetAuthorizeAsync(parameters);

        await OidcTestClient.AssertErrorPageAsync(response);
    }

    [Theory]
    [InlineData("openid")]
    [InlineData(TestSeed.ApiScope)]
    public async Task Authorize_InvalidRequestWithoutRedirectUri_ShowsErrorPageWithoutRedirect(string scope)
    {
        // The client has one registered redirect URI, but a missing one is never inferred for an error.
        using var client = factory.CreateOidcClient();
        var parameters = OidcTestClient.CodeRequest(TestSeed.PublicClientId, TestSeed.PublicRedirectUri, scope, Pkce.Create(), state: State, nonce: null);
        parameters.Remove("redirect_uri");
        parameters["prompt"] = "made_up";
        using var response = await client.GetAuthorizeAsync(parameters);

        await OidcTestClient.AssertErrorPageAsync(response, "invalid_request");
    }

    [Theory]
    [InlineData("client_id")]
    [InlineData("redirect_uri")]
    public async Task Authorize_RepeatedClientIdOrRedirectUri_ShowsErrorPageWithoutRedirect(string repeated)
    {
        using var client = factory.CreateOidcClient();
        var parameters = OidcTestClient.CodeRequest(TestSeed.PublicClientId, TestSeed.PublicRedirectUri, "openid", Pkce.Create(), state: State);
        var url = OidcTestClient.AuthorizeUrl(parameters) + $"&{repeated}={Uri.EscapeDataString(parameters[repeated]!)}";
        using var response = await client.Http.GetAsync(new Uri(url, UriKind.Relative));

        await OidcTestClient.AssertErrorPageAsync(response, "invalid_request");
    }

    /// <summary>Asserts a 302 to exactly the registered redirect URI and returns the parameters in its query or fragment.</summary>
    internal static Dictionary<string, string> AssertRedirected(HttpResponseMessage response, string redirectUri, char delimiter)
    {
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!.AbsoluteUri;
        Assert.StartsWith(redirectUri + delimiter, location, StringComparison.Ordinal);
        return QueryHelpers.ParseQuery(location[(redirectUri.Length + 1)..]).ToDictionary(static p => p.Key, static p => p.Value.ToString());
    }
}
