using System.Net;
using System.Text.Json;

namespace ClientSamples.EndToEndTests.Cluster;

/// <summary>
/// The test client's and the API's calls to the identity provider at one address: nginx (the issuer), or
/// one node directly. A node is called as nginx calls it, over plain HTTP from loopback (its trusted
/// proxy) with <c>X-Forwarded-Proto: https</c>, which makes "issued on this node, used on that one" exact.
/// Redirects are not followed and cookies are sent only when given.
/// </summary>
internal sealed class ServerClient(HttpClient http, Uri address, bool direct)
{
    public Uri Address => address;

    /// <summary>Redeems the code a browser brought back; every test expects tokens for it.</summary>
    public async Task<ProtocolResponse> RedeemCodeAsync(SignInResult signIn)
    {
        ArgumentNullException.ThrowIfNull(signIn);
        var tokens = await PostAsync("connect/token", new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = signIn.Code,
            ["code_verifier"] = signIn.Verifier,
            ["redirect_uri"] = ClusterFixture.RedirectUri.AbsoluteUri,
            ["client_id"] = ClusterFixture.ClientId,
            ["client_secret"] = ClusterFixture.ClientSecret,
        });
        Assert.True(tokens.Status == HttpStatusCode.OK, $"The code was refused at {address}: {tokens}");
        return tokens;
    }

    public Task<ProtocolResponse> RefreshAsync(string refreshToken) => PostAsync("connect/token", new()
    {
        ["grant_type"] = "refresh_token",
        ["refresh_token"] = refreshToken,
        ["client_id"] = ClusterFixture.ClientId,
        ["client_secret"] = ClusterFixture.ClientSecret,
    });

    /// <summary>Introspection by the API the access tokens are for (RFC 7662).</summary>
    public Task<ProtocolResponse> IntrospectAsync(string token) => PostAsync("connect/introspect", new()
    {
        ["token"] = token,
        ["client_id"] = ClusterFixture.ApiClientId,
        ["client_secret"] = ClusterFixture.ApiClientSecret,
    });

    public async Task<bool> IsActiveAsync(string token)
    {
        var response = await IntrospectAsync(token);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        return response.Body.GetProperty("active").GetBoolean();
    }

    /// <summary>A client_credentials token request (RFC 6749 4.4) with the secret in the body.</summary>
    public Task<ProtocolResponse> ClientCredentialsAsync(string clientId, string secret, string scope, string? dpopProof = null) => PostAsync("connect/token", new()
    {
        ["grant_type"] = "client_credentials",
        ["client_id"] = clientId,
        ["client_secret"] = secret,
        ["scope"] = scope,
    }, dpopProof);

    /// <summary>A client_credentials token request authenticated by a signed client assertion (private_key_jwt, RFC 7523).</summary>
    public Task<ProtocolResponse> ClientCredentialsWithAssertionAsync(string clientId, string assertion, string scope) => PostAsync("connect/token", new()
    {
        ["grant_type"] = "client_credentials",
        ["client_id"] = clientId,
        ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ["client_assertion"] = assertion,
        ["scope"] = scope,
    });

    /// <summary>An admin API call with a bearer token and, when given, a JSON body; an empty answer reads as JSON null.</summary>
    public async Task<ProtocolResponse> AdminAsync(HttpMethod method, string path, string token, string? json = null)
    {
        using var request = Request(method, path);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        using var body = JsonDocument.Parse(text.Length == 0 ? "null" : text);
        return new ProtocolResponse(response.StatusCode, body.RootElement.Clone(), null);
    }

    /// <summary>The key ids the node publishes at /.well-known/jwks.</summary>
    public async Task<List<string>> JwksKeyIdsAsync()
    {
        using var request = Request(HttpMethod.Get, ".well-known/jwks");
        using var response = await http.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return [.. body.RootElement.GetProperty("keys").EnumerateArray().Select(static k => k.GetProperty("kid").GetString()!)];
    }

    /// <summary>A GET with the given Cookie header (a browser's cookies, copied).</summary>
    public async Task<HttpResponseMessage> GetAsync(string path, string cookies)
    {
        using var request = Request(HttpMethod.Get, path);
        request.Headers.Add("Cookie", cookies);
        return await http.SendAsync(request);
    }

    private async Task<ProtocolResponse> PostAsync(string path, Dictionary<string, string> form, string? dpopProof = null)
    {
        using var request = Request(HttpMethod.Post, path);
        request.Content = new FormUrlEncodedContent(form);
        if (dpopProof is not null)
        {
            request.Headers.Add("DPoP", dpopProof);
        }
        using var response = await http.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var upstream = response.Headers.TryGetValues("X-Upstream", out var values) ? values.Single() : null;
        return new ProtocolResponse(response.StatusCode, body.RootElement.Clone(), upstream);
    }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, new Uri(address, path));
        if (direct)
        {
            request.Headers.Add("X-Forwarded-Proto", "https");
        }
        return request;
    }
}

/// <summary>A token or introspection response: status, JSON body and, through nginx, the node that answered.</summary>
internal sealed record ProtocolResponse(HttpStatusCode Status, JsonElement Body, string? Upstream)
{
    public string AccessToken => Body.GetProperty("access_token").GetString()!;

    public string RefreshToken => Body.GetProperty("refresh_token").GetString()!;

    public string? Error => Body.TryGetProperty("error", out var error) ? error.GetString() : null;

    public override string ToString() => $"{(int)Status} {Body}";
}
