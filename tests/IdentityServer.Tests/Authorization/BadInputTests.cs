using System.Net;
using System.Text;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Authorization;

/// <summary>Hostile or malformed input gets a standard OAuth error, never a 500 or a stack trace.</summary>
public sealed class BadInputTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task Token_MissingGrantType_ReturnsInvalidRequest()
    {
        using var client = factory.CreateOidcClient();
        var response = await client.TokenAsync(("client_id", TestSeed.WorkerClientId), ("client_secret", TestSeed.WorkerSecret));
        AssertError(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Theory]
    [InlineData("password")]
    [InlineData("urn:ietf:params:oauth:grant-type:jwt-bearer")]
    [InlineData("made-up")]
    public async Task Token_UnsupportedGrantType_ReturnsUnsupportedGrantType(string grantType)
    {
        using var client = factory.CreateOidcClient();
        var response = await client.TokenAsync(("grant_type", grantType), ("client_id", TestSeed.WorkerClientId), ("client_secret", TestSeed.WorkerSecret));
        AssertError(response, HttpStatusCode.BadRequest, "unsupported_grant_type");
    }

    [Fact]
    public async Task Token_JsonBody_ReturnsInvalidRequest()
    {
        using var client = factory.CreateOidcClient();
        using var content = new StringContent("{\"grant_type\":\"client_credentials\"}", Encoding.UTF8, "application/json");
        using var message = await client.Http.PostAsync(new Uri("/connect/token", UriKind.Relative), content);
        AssertError(await TokenResponse.ReadAsync(message), HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Token_GetRequest_ReturnsInvalidRequest()
    {
        using var client = factory.CreateOidcClient();
        using var message = await client.Http.GetAsync(new Uri("/connect/token?grant_type=client_credentials", UriKind.Relative));
        AssertError(await TokenResponse.ReadAsync(message), HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Token_DuplicateParameter_ReturnsInvalidRequest()
    {
        using var client = factory.CreateOidcClient();
        var response = await client.TokenAsync(("grant_type", "client_credentials"), ("client_id", TestSeed.WorkerClientId),
            ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WorkerSecret));
        AssertError(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Token_MegabyteLongValue_IsRejectedWithoutServerError()
    {
        // Over the body limit: Kestrel may refuse it (413) before our form check answers 400.
        using var client = factory.CreateOidcClient();
        using var message = await client.Http.PostAsync(new Uri("/connect/token", UriKind.Relative), new FormUrlEncodedContent(
            [new("grant_type", "client_credentials"), new("client_id", TestSeed.WorkerClientId), new("client_secret", TestSeed.WorkerSecret), new("scope", new string('a', 1024 * 1024))]));
        Assert.True((int)message.StatusCode is >= 400 and < 500, $"status {(int)message.StatusCode}");
        Assert.DoesNotContain("Exception", await message.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_LongButAcceptedValue_ReturnsInvalidScope()
    {
        using var client = factory.CreateOidcClient();
        var response = await client.TokenAsync(("grant_type", "client_credentials"), ("client_id", TestSeed.WorkerClientId),
            ("client_secret", TestSeed.WorkerSecret), ("scope", new string('a', 32 * 1024)));
        AssertError(response, HttpStatusCode.BadRequest, "invalid_scope");
    }

    [Theory]
    [InlineData("grant_type=client_credentials&client_id=%ZZ&client_secret=x")]
    [InlineData("grant_type=client_credentials&client_id=%C3%28&client_secret=x")]
    [InlineData("grant_type=client_credentials&client_id=&client_secret=")]
    [InlineData("%%%&&&===")]
    public async Task Token_InvalidEncoding_ReturnsClientError(string body)
    {
        // A garbled client_id can decode to an empty value (invalid_request) or to an unknown client
        // (401 invalid_client) depending on the bytes: both are correct, a 500 is not.
        using var client = factory.CreateOidcClient();
        using var content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded");
        using var message = await client.Http.PostAsync(new Uri("/connect/token", UriKind.Relative), content);
        var response = await TokenResponse.ReadAsync(message);
        Assert.True(response.Status is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized, $"{response.Status} {response.Json}");
        Assert.True(response.Error is "invalid_request" or "invalid_client", response.Json.ToString());
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded", "application/json")]
    [InlineData("application/x-www-form-urlencoded, application/json", null)]
    public async Task Token_MalformedContentType_ReturnsInvalidRequest(string contentType, string? secondContentType)
    {
        // OpenIddict reads the body as a form because the header starts with the form type; the form
        // reader then refuses the header: that was a 500.
        using var client = factory.CreateOidcClient();
        using var content = new StringContent($"grant_type=client_credentials&client_id={TestSeed.WorkerClientId}&client_secret={TestSeed.WorkerSecret}");
        content.Headers.Remove("Content-Type");
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        if (secondContentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", secondContentType);
        }
        using var message = await client.Http.PostAsync(new Uri("/connect/token", UriKind.Relative), content);
        AssertError(await TokenResponse.ReadAsync(message), HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Token_ConfidentialClientWithoutSecret_Returns401InvalidClient()
    {
        using var client = factory.CreateOidcClient();
        var response = await client.TokenAsync(("grant_type", "client_credentials"), ("client_id", TestSeed.WorkerClientId));
        AssertError(response, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task Token_BasicAuthWithWrongSecret_Returns401InvalidClient()
    {
        using var client = factory.CreateOidcClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
        };
        request.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestSeed.WorkerClientId}:nope")));
        using var message = await client.Http.SendAsync(request);
        AssertError(await TokenResponse.ReadAsync(message), HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task Token_CodeGrantWithGarbageCode_ReturnsInvalidGrant()
    {
        using var client = factory.CreateOidcClient();
        var response = await client.TokenAsync(("grant_type", "authorization_code"), ("code", "garbage"), ("redirect_uri", TestSeed.WebRedirectUri),
            ("code_verifier", Pkce.Create().Verifier), ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret));
        AssertError(response, HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Fact]
    public async Task Authorize_MissingResponseType_ShowsErrorPage()
    {
        // Whether OpenIddict checks response_type before or after trusting the redirect_uri decides
        // between a redirect with the error and the error page; either way the code is invalid_request.
        using var client = factory.CreateOidcClient();
        using var response = await client.Http.GetAsync(new Uri("/connect/authorize?client_id=shop&redirect_uri=https%3A%2F%2Fshop.example%2Fsignin-oidc&scope=openid", UriKind.Relative));
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Redirect, response.StatusCode.ToString());
        if (response.StatusCode == HttpStatusCode.Redirect)
        {
            Assert.Equal("invalid_request", OidcTestClient.Query(response.Headers.Location!)["error"]);
        }
        else
        {
            Assert.Equal("invalid_request", (await OidcTestClient.ParseAsync(response)).QuerySelector("#error-code")!.TextContent);
        }
    }

    [Fact]
    public async Task Authorize_DuplicateClientId_ShowsErrorPage()
    {
        using var client = factory.CreateOidcClient();
        using var response = await client.Http.GetAsync(new Uri("/connect/authorize?client_id=shop&client_id=spa&response_type=code&redirect_uri=https%3A%2F%2Fshop.example%2Fsignin-oidc&scope=openid", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task Authorize_NulCharacterInScope_Returns400InvalidRequest_WithoutRedirect()
    {
        // PostgreSQL cannot compare a string holding NUL: looked up as a scope, it used to be a 500.
        using var client = factory.CreateOidcClient();
        using var response = await client.Http.GetAsync(new Uri(
            "/connect/authorize?client_id=shop&response_type=code&redirect_uri=https%3A%2F%2Fshop.example%2Fsignin-oidc&scope=openid%00orders", UriKind.Relative));
        AssertError(await TokenResponse.ReadAsync(response), HttpStatusCode.BadRequest, "invalid_request");
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task Token_NulCharacterInFormValue_Returns400InvalidRequest()
    {
        using var client = factory.CreateOidcClient();
        var response = await client.TokenAsync(("grant_type", "client_credentials"), ("client_id", TestSeed.WorkerClientId),
            ("client_secret", TestSeed.WorkerSecret), ("scope", "orders\0"));
        AssertError(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task EndpointBehindADoubleSlash_UnreadableForm_Returns400()
    {
        // "//connect/par" still reaches OpenIddict's endpoint, whose form reader threw on a NUL (found by the fuzz test).
        using var client = factory.CreateOidcClient();
        using var response = await client.Http.PostAsync(new Uri("https://localhost//connect/par"),
            new StringContent("response_type=code&client_id=%00", System.Text.Encoding.ASCII, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Revoke_MultipartBodySentAsAForm_Returns400_BeforeAnythingLogsIt()
    {
        // The whole multipart body would be one parameter "name", secret included, that OpenIddict logs as unknown (found by the fuzz test).
        using var client = factory.CreateOidcClient();
        var body = "--b\r\nContent-Disposition: form-data; name=\"client_secret\"\r\n\r\n" + TestSeed.WebClientSecret + "\r\n--b--\r\n";
        using var response = await client.Http.PostAsync(new Uri("/connect/revoke", UriKind.Relative),
            new StringContent(body, System.Text.Encoding.ASCII, "application/x-www-form-urlencoded"));
        AssertError(await TokenResponse.ReadAsync(response), HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task SignInPage_NulCharacterInLogin_ShowsThe400ErrorPage()
    {
        using var client = factory.CreateOidcClient();
        var page = await client.NavigateAsync("/Account/Login");
        using var response = await client.SubmitAsync(page, new Dictionary<string, string> { ["Input.Login"] = "alice\0", ["Input.Password"] = "whatever-1" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Authorize_HugeQuery_IsRejectedWithoutServerError()
    {
        // Over the request-line limit: the host answers 414 (Kestrel) or 400 before our code runs.
        using var client = factory.CreateOidcClient();
        using var response = await client.Http.GetAsync(new Uri("/connect/authorize?client_id=shop&state=" + new string('x', 200_000), UriKind.Relative));
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"status {(int)response.StatusCode}");
    }

    [Fact]
    public async Task Introspect_MissingToken_ReturnsInvalidRequest()
    {
        using var client = factory.CreateOidcClient();
        var response = await client.PostAsync("/connect/introspect", [new("client_id", TestSeed.ApiClientId), new("client_secret", TestSeed.ApiSecret)]);
        AssertError(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    private static void AssertError(TokenResponse response, HttpStatusCode status, string error)
    {
        Assert.True(response.Status == status && response.Error == error, $"expected {(int)status} {error}, got {(int)response.Status} {response.Json}");
    }
}
