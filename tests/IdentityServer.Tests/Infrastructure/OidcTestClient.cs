using System.Net;
using System.Text.Json;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// Drives the server the way a browser and a client app would: cookies, redirects followed by hand
/// (to see each hop), real HTML forms parsed with AngleSharp and posted with their antiforgery tokens.
/// </summary>
public sealed class OidcTestClient(HttpClient http) : IDisposable
{
    public HttpClient Http { get; } = http;

    public void Dispose() => Http.Dispose();

    public static string AuthorizeUrl(IDictionary<string, string?> parameters) =>
        QueryHelpers.AddQueryString("/connect/authorize", parameters);

    public static Dictionary<string, string?> CodeRequest(string clientId, string redirectUri, string scope, Pkce? pkce, string state = "xyz", string? nonce = "n-0S6_WzA2Mj")
    {
        var parameters = new Dictionary<string, string?>
        {
            ["client_id"] = clientId,
            ["response_type"] = "code",
            ["redirect_uri"] = redirectUri,
            ["scope"] = scope,
            ["state"] = state,
        };
        if (nonce is not null)
        {
            parameters["nonce"] = nonce;
        }
        if (pkce is not null)
        {
            parameters["code_challenge"] = pkce.Challenge;
            parameters["code_challenge_method"] = "S256";
        }
        return parameters;
    }

    /// <summary>One GET of the authorization endpoint, redirects not followed.</summary>
    public Task<HttpResponseMessage> GetAuthorizeAsync(IDictionary<string, string?> parameters) =>
        Http.GetAsync(new Uri(AuthorizeUrl(parameters), UriKind.Relative));

    /// <summary>Signs the user in through the implicit-consent portal client: the browser then has an IdP session.</summary>
    public Task<Uri> SignInThroughPortalAsync(string login = TestSeed.UserName, string password = TestSeed.UserPassword) =>
        AuthorizeAsync(CodeRequest(TestSeed.ImplicitConsentClientId, TestSeed.PortalRedirectUri, "openid", null), login, password);

    /// <summary>Asserts a 400 error page (no redirect) showing the given OAuth error code.</summary>
    public static async Task AssertErrorPageAsync(HttpResponseMessage response, string? error = null)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        var code = (await ParseAsync(response)).QuerySelector("#error-code");
        Assert.NotNull(code);
        if (error is not null)
        {
            Assert.Equal(error, code.TextContent);
        }
    }

    /// <summary>GETs a URL and follows redirects that stay on the server; stops at the first page or external redirect.</summary>
    public async Task<HttpResponseMessage> NavigateAsync(string url)
    {
        var response = await Http.GetAsync(new Uri(url, UriKind.RelativeOrAbsolute));
        return await FollowLocalRedirectsAsync(response);
    }

    public async Task<HttpResponseMessage> FollowLocalRedirectsAsync(HttpResponseMessage response)
    {
        for (var hops = 0; hops < 10 && IsRedirect(response) && IsLocal(response.Headers.Location!); hops++)
        {
            response = await Http.GetAsync(response.Headers.Location);
        }
        return response;
    }

    public static bool IsRedirect(HttpResponseMessage response) =>
        response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.RedirectKeepVerb;

    public static bool IsLocal(Uri location) =>
        !location.IsAbsoluteUri || location.Host == IdentityServerFactory.BaseAddress.Host;

    public static async Task<IHtmlDocument> ParseAsync(HttpResponseMessage response) =>
        await new HtmlParser().ParseDocumentAsync(await response.Content.ReadAsStringAsync());

    /// <summary>
    /// Submits the page's first form with its fields, the given values and the clicked button. As a
    /// browser does, an unticked checkbox sends nothing, unless the caller gives a value for it.
    /// </summary>
    /// <summary>
    /// Submits the page's first form (or the one with id <paramref name="formId"/>) as a browser would: its
    /// inputs, text areas and selects, checked boxes only; <paramref name="values"/> replace fields by name
    /// (a checkbox named there is sent with that value). <paramref name="extra"/> adds fields, such as a
    /// second value for a name that checkboxes share.
    /// </summary>
    public async Task<HttpResponseMessage> SubmitAsync(HttpResponseMessage page, IDictionary<string, string>? values = null, string? button = null,
        string? formId = null, IEnumerable<KeyValuePair<string, string>>? extra = null)
    {
        var document = await ParseAsync(page);
        var form = (formId is null ? document.Forms.Length > 0 ? document.Forms[0] : null : document.Forms.FirstOrDefault(f => f.Id == formId))
            ?? throw new InvalidOperationException($"The page has no form {formId}: " + document.Title);
        var fields = new List<KeyValuePair<string, string>>();
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var input in form.Elements.OfType<IHtmlInputElement>().Where(i => !string.IsNullOrEmpty(i.Name)))
        {
            var given = values is not null && values.ContainsKey(input.Name!);
            if (input.Type is "checkbox" or "radio" && !input.IsChecked && !given)
            {
                continue;
            }
            // A name given in values is sent once, with that value.
            if (given && !named.Add(input.Name!))
            {
                continue;
            }
            fields.Add(new(input.Name!, given ? values![input.Name!] : input.Value));
        }
        foreach (var area in form.Elements.OfType<IHtmlTextAreaElement>().Where(i => !string.IsNullOrEmpty(i.Name)))
        {
            fields.Add(new(area.Name!, values is not null && values.TryGetValue(area.Name!, out var text) ? text : area.Value));
        }
        foreach (var select in form.Elements.OfType<IHtmlSelectElement>().Where(i => !string.IsNullOrEmpty(i.Name)))
        {
            fields.Add(new(select.Name!, values is not null && values.TryGetValue(select.Name!, out var chosen) ? chosen : select.Value ?? ""));
        }
        fields.AddRange(extra ?? []);
        if (button is not null)
        {
            var clicked = form.Elements.OfType<IHtmlButtonElement>().Single(b => b.Id == button);
            if (!string.IsNullOrEmpty(clicked.Name))
            {
                fields.Add(new(clicked.Name!, clicked.Value));
            }
        }

        var action = string.IsNullOrEmpty(form.GetAttribute("action"))
            ? page.RequestMessage!.RequestUri!
            : new Uri(IdentityServerFactory.BaseAddress, form.GetAttribute("action"));
        return await Http.PostAsync(action, new FormUrlEncodedContent(fields));
    }

    /// <summary>Fills in the sign-in page and follows the redirects back into the flow.</summary>
    public async Task<HttpResponseMessage> SignInAsync(HttpResponseMessage loginPage, string login, string password)
    {
        var response = await SubmitAsync(loginPage, new Dictionary<string, string>
        {
            ["Input.Login"] = login,
            ["Input.Password"] = password,
        });
        return await FollowLocalRedirectsAsync(response);
    }

    /// <summary>Runs authorize → sign-in (if asked) → consent (if asked) and returns the redirect to the client.</summary>
    public async Task<Uri> AuthorizeAsync(IDictionary<string, string?> parameters, string login = TestSeed.UserName, string password = TestSeed.UserPassword)
    {
        var response = await NavigateAsync(AuthorizeUrl(parameters));
        if (response.RequestMessage!.RequestUri!.AbsolutePath == "/Account/Login" && response.StatusCode == HttpStatusCode.OK)
        {
            response = await SignInAsync(response, login, password);
        }
        if (response.StatusCode == HttpStatusCode.OK && response.RequestMessage!.RequestUri!.AbsolutePath == "/connect/authorize")
        {
            response = await SubmitAsync(response, button: "accept");
        }
        Assert.True(IsRedirect(response), $"Expected a redirect to the client, got {(int)response.StatusCode} at {response.RequestMessage!.RequestUri}");
        return response.Headers.Location!;
    }

    public static Dictionary<string, string> Query(Uri uri) =>
        QueryHelpers.ParseQuery(uri.Query).ToDictionary(p => p.Key, p => p.Value.ToString());

    public async Task<TokenResponse> PostAsync(string path, IEnumerable<KeyValuePair<string, string>> form)
    {
        using var response = await Http.PostAsync(new Uri(path, UriKind.Relative), new FormUrlEncodedContent(form));
        return await TokenResponse.ReadAsync(response);
    }

    public Task<TokenResponse> TokenAsync(params (string Key, string Value)[] form) =>
        PostAsync("/connect/token", form.Select(p => new KeyValuePair<string, string>(p.Key, p.Value)));

    public Task<TokenResponse> ClientCredentialsAsync(string scope = TestSeed.ApiScope) => TokenAsync(
        ("grant_type", "client_credentials"), ("client_id", TestSeed.WorkerClientId),
        ("client_secret", TestSeed.WorkerSecret), ("scope", scope));

    public Task<TokenResponse> RefreshAsync(string refreshToken) => TokenAsync(
        ("grant_type", "refresh_token"), ("refresh_token", refreshToken),
        ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret));

    public Task<TokenResponse> IntrospectAsync(string token, string clientId = TestSeed.ApiClientId, string secret = TestSeed.ApiSecret) =>
        PostAsync("/connect/introspect", [new("token", token), new("client_id", clientId), new("client_secret", secret)]);

    public Task<TokenResponse> RevokeAsync(string token, string clientId = TestSeed.WebClientId, string secret = TestSeed.WebClientSecret) =>
        PostAsync("/connect/revoke", [new("token", token), new("client_id", clientId), new("client_secret", secret)]);

    /// <summary>The complete code flow for the confidential web client, ending with the token response.</summary>
    public async Task<TokenResponse> CodeFlowAsync(string scope = "openid profile email offline_access orders")
    {
        var pkce = Pkce.Create();
        var redirect = await AuthorizeAsync(CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, scope, pkce));
        var code = Query(redirect)["code"];
        var tokens = await TokenAsync(
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", TestSeed.WebRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        return tokens;
    }
}

/// <summary>A JSON response from a protocol endpoint, with its status.</summary>
public sealed record TokenResponse(HttpStatusCode Status, JsonElement Json, HttpResponseMessage Message)
{
    public string? Error => Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty("error", out var e) ? e.GetString() : null;

    public string? this[string name] => Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty(name, out var value)
        ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText()
        : null;

    public static async Task<TokenResponse> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        var json = body.Length > 0 && body.TrimStart().StartsWith('{') ? JsonDocument.Parse(body).RootElement.Clone() : default;
        return new TokenResponse(response.StatusCode, json, response);
    }
}
