using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Web;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;

namespace ClientSamples.EndToEndTests.CrashSafety;

/// <summary>
/// The test's clients of one server process: the machine client (<c>client_credentials</c>, revocation),
/// the web app (code flow with PKCE, refresh) and the API (introspection). Every call sends
/// <c>X-Forwarded-Proto: https</c>. Sign-in goes through the real sign-in form (antiforgery token
/// included) without a browser; cookies are carried by hand because the server marks them Secure.
/// </summary>
internal sealed class ProtocolClient(HttpClient http, Uri address)
{
    public const string MachineClientId = "crash-machine";
    public const string MachineClientSecret = "crash-machine-secret-not-for-production";
    public const string WebClientId = "crash-web";
    public const string WebClientSecret = "crash-web-secret-not-for-production";
    public const string ApiClientId = "crash-api";
    public const string ApiClientSecret = "crash-api-secret-not-for-production";
    public const string UserName = "erin";
    public const string Password = "Crash-Passw0rd!";

    private static readonly Uri RedirectUri = new("https://client.example/cb");

    public Task<Reply> ClientCredentialsAsync() => PostAsync("connect/token", new()
    {
        ["grant_type"] = "client_credentials",
        ["scope"] = "crash-api",
        ["client_id"] = MachineClientId,
        ["client_secret"] = MachineClientSecret,
    });

    public Task<Reply> RefreshAsync(string refreshToken) => PostAsync("connect/token", new()
    {
        ["grant_type"] = "refresh_token",
        ["refresh_token"] = refreshToken,
        ["client_id"] = WebClientId,
        ["client_secret"] = WebClientSecret,
    });

    public Task<Reply> IntrospectAsync(string token) => PostAsync("connect/introspect", new()
    {
        ["token"] = token,
        ["client_id"] = ApiClientId,
        ["client_secret"] = ApiClientSecret,
    });

    /// <summary>Revocation by the machine client of one of its own access tokens (RFC 7009).</summary>
    public Task<Reply> RevokeAsync(string token) => PostAsync("connect/revoke", new()
    {
        ["token"] = token,
        ["token_type_hint"] = "access_token",
        ["client_id"] = MachineClientId,
        ["client_secret"] = MachineClientSecret,
    });

    /// <summary>
    /// A new sign-in (its own session, so that reuse detection on one chain, which ends the session,
    /// leaves the others alone) and the code redeemed: the first refresh token of a new chain.
    /// </summary>
    public async Task<RefreshChain> StartChainAsync(string name)
    {
        var cookies = new Dictionary<string, string>(StringComparer.Ordinal);
        var verifier = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        var challenge = Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var state = Guid.NewGuid().ToString("N");
        var query = HttpUtility.ParseQueryString("");
        query["client_id"] = WebClientId;
        query["response_type"] = "code";
        query["redirect_uri"] = RedirectUri.AbsoluteUri;
        query["scope"] = "openid offline_access crash-api";
        query["state"] = state;
        query["nonce"] = Guid.NewGuid().ToString("N");
        query["code_challenge"] = challenge;
        query["code_challenge_method"] = "S256";

        var toLogin = await GetAsync(new Uri(address, "connect/authorize?" + query), cookies, HttpStatusCode.Redirect);
        var loginUrl = Local(toLogin.Location!);
        var loginPage = await GetAsync(loginUrl, cookies, HttpStatusCode.OK);
        var forms = (await new HtmlParser().ParseDocumentAsync(loginPage.Body)).Forms;
        var form = (forms.Length > 0 ? forms[0] : null)
            ?? throw new InvalidOperationException($"{name}: the sign-in page has no form:\n{loginPage.Body}");
        // What a browser posts: every named field in order, a checkbox only when it is checked (the
        // "remember me" box sits next to a hidden field of the same name).
        var fields = form.Elements.OfType<IHtmlInputElement>()
            .Where(input => !string.IsNullOrEmpty(input.Name) && (input.Type != "checkbox" || input.IsChecked))
            .Select(input => KeyValuePair.Create(input.Name!, input.Name switch
            {
                "Input.Login" => UserName,
                "Input.Password" => Password,
                _ => input.Value,
            }))
            .ToList();
        var signedIn = await SendAsync(HttpMethod.Post, loginUrl, cookies, new FormUrlEncodedContent(fields), HttpStatusCode.Redirect);
        var toClient = await GetAsync(Local(signedIn.Location!), cookies, HttpStatusCode.Redirect);
        if (!toClient.Location!.AbsoluteUri.StartsWith(RedirectUri.AbsoluteUri + "?", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{name}: the authorization request did not return to the client: {toClient.Location}");
        }
        var parameters = HttpUtility.ParseQueryString(toClient.Location.Query);
        Assert.Equal(state, parameters["state"]);

        var tokens = await PostAsync("connect/token", new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = parameters["code"] ?? throw new InvalidOperationException($"{name}: no code in {toClient.Location}"),
            ["code_verifier"] = verifier,
            ["redirect_uri"] = RedirectUri.AbsoluteUri,
            ["client_id"] = WebClientId,
            ["client_secret"] = WebClientSecret,
        });
        Assert.True(tokens.Status == HttpStatusCode.OK, $"{name}: the code was refused: {tokens}");
        return new RefreshChain(name, AuthorizationIdOf(tokens.AccessToken), tokens.RefreshToken, tokens.AccessToken);
    }

    /// <summary>The grant an access token belongs to: OpenIddict's <c>oi_au_id</c> claim (access tokens are signed, not encrypted).</summary>
    public static string AuthorizationIdOf(string accessToken)
    {
        var payload = accessToken.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
        using var claims = JsonDocument.Parse(Convert.FromBase64String(payload));
        return claims.RootElement.TryGetProperty("oi_au_id", out var id) && id.GetString() is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException("The access token names no authorization (oi_au_id): " + claims.RootElement);
    }

    private async Task<Reply> PostAsync(string path, Dictionary<string, string> form)
    {
        using var request = Request(HttpMethod.Post, new Uri(address, path));
        request.Content = new FormUrlEncodedContent(form);
        // The whole body is read before this returns: a reply here is an acknowledged one.
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var json = body.TrimStart().StartsWith('{') ? JsonDocument.Parse(body).RootElement.Clone() : default;
        return new Reply(response.StatusCode, json, body);
    }

    private Task<Page> GetAsync(Uri url, Dictionary<string, string> cookies, HttpStatusCode expected) =>
        SendAsync(HttpMethod.Get, url, cookies, null, expected);

    private async Task<Page> SendAsync(HttpMethod method, Uri url, Dictionary<string, string> cookies, HttpContent? content, HttpStatusCode expected)
    {
        using var request = Request(method, url);
        request.Content = content;
        if (cookies.Count > 0)
        {
            request.Headers.Add("Cookie", string.Join("; ", cookies.Select(c => $"{c.Key}={c.Value}")));
        }
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (response.Headers.TryGetValues("Set-Cookie", out var setCookies))
        {
            foreach (var pair in setCookies.Select(c => c.Split(';', 2)[0].Split('=', 2)))
            {
                cookies[pair[0]] = pair[1];
            }
        }
        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException($"{method} {url.PathAndQuery}: {(int)response.StatusCode} instead of {(int)expected}:\n{body}");
        }
        return new Page(response.Headers.Location, body);
    }

    /// <summary>A redirect within the server (absolute with the forwarded scheme, or relative), made to reach this process.</summary>
    private Uri Local(Uri location) => new(address, location.IsAbsoluteUri ? location.PathAndQuery : location.OriginalString);

    private static HttpRequestMessage Request(HttpMethod method, Uri url)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add("X-Forwarded-Proto", "https");
        return request;
    }

    private sealed record Page(Uri? Location, string Body);
}

/// <summary>A complete answer of a protocol endpoint: status and JSON body (none for revocation).</summary>
internal sealed record Reply(HttpStatusCode Status, JsonElement Body, string Text)
{
    public string AccessToken => Body.GetProperty("access_token").GetString()!;

    public string RefreshToken => Body.GetProperty("refresh_token").GetString()!;

    public string? Error => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("error", out var error) ? error.GetString() : null;

    public bool? Active => Status == HttpStatusCode.OK && Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("active", out var active) ? active.GetBoolean() : null;

    /// <summary>The status and what matters of the body: the error, the active flag, or that tokens came (not the tokens themselves).</summary>
    public override string ToString() => Body.ValueKind != JsonValueKind.Object
        ? $"{(int)Status} {(Text.Length > 200 ? Text[..200] + "..." : Text)}"
        : Error is { } error ? $"{(int)Status} {error}: {(Body.TryGetProperty("error_description", out var description) ? description.GetString() : "")}"
        : Body.TryGetProperty("active", out var active) ? $"{(int)Status} active={active.GetBoolean()}"
        : Body.TryGetProperty("access_token", out _) ? $"{(int)Status} with new tokens"
        : $"{(int)Status} {Body}";
}
