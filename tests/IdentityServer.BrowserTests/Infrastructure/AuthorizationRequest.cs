using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IdentityServer.Seeding;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.BrowserTests.Infrastructure;

/// <summary>
/// What the demo web app would put in the authorize URL: a fresh state, nonce and PKCE pair per request,
/// as a real client must, so that a test can tell one round trip from another.
/// </summary>
internal sealed record AuthorizationRequest(string State, string Nonce, string CodeVerifier)
{
    public const string Scope = "openid profile email offline_access demo-api";

    public static IReadOnlyList<string> Scopes { get; } = Scope.Split(' ');

    public static AuthorizationRequest Create() => new(RandomValue(), RandomValue(), RandomValue());

    /// <summary>Optional <c>prompt</c>; <c>consent</c> shows the consent page even when consent was given before.</summary>
    public string? Prompt { get; init; }

    public string CodeChallenge => WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(CodeVerifier)));

    public string Url(Uri server)
    {
        var parameters = new Dictionary<string, string?>
        {
            ["client_id"] = DevelopmentSeed.WebClientId,
            ["response_type"] = "code",
            ["redirect_uri"] = DevelopmentSeed.WebRedirectUri,
            ["scope"] = Scope,
            ["state"] = State,
            ["nonce"] = Nonce,
            ["code_challenge"] = CodeChallenge,
            ["code_challenge_method"] = "S256",
        };
        if (Prompt is not null)
        {
            parameters["prompt"] = Prompt;
        }
        return QueryHelpers.AddQueryString(new Uri(server, "connect/authorize").AbsoluteUri, parameters);
    }

    private static string RandomValue() => WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    /// <summary>What the demo web app's back channel does with the code: client_secret_post plus this request's PKCE verifier.</summary>
    public async Task<JsonDocument> RedeemAsync(HttpClient http, string code)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = DevelopmentSeed.WebRedirectUri,
            ["code_verifier"] = CodeVerifier,
            ["client_id"] = DevelopmentSeed.WebClientId,
            ["client_secret"] = DevelopmentSeed.WebClientSecret,
        });
        using var response = await http.PostAsync(new Uri("connect/token", UriKind.Relative), form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Token endpoint answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body);
    }

    /// <summary>Redeems the code and returns the ID token's payload.</summary>
    public async Task<JsonElement> RedeemForIdTokenAsync(HttpClient http, string code)
    {
        using var tokens = await RedeemAsync(http, code);
        return JwtPayload(tokens.RootElement.GetProperty("id_token").GetString()!);
    }

    public static JsonElement JwtPayload(string jwt)
    {
        var parts = jwt.Split('.');
        Assert.Equal(3, parts.Length);
        using var payload = JsonDocument.Parse(WebEncoders.Base64UrlDecode(parts[1]));
        return payload.RootElement.Clone();
    }
}
