using System.ComponentModel.DataAnnotations;
using System.Net.Http.Headers;
using System.Text.Json;
using ClientSamples.Api.Validation;
using ClientSamples.Shared;
using Microsoft.Extensions.Options;

namespace ClientSamples.Api;

/// <summary>The <c>Downstream</c> section: the API this one calls on its caller's behalf (token exchange, RFC 8693).</summary>
internal sealed class DownstreamSettings
{
    public const string Section = "Downstream";

    /// <summary>The downstream API's root; unset: no <c>/api/hello/downstream</c>.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>The audience asked for in the exchange: the downstream API's (it refuses other tokens).</summary>
    [Required]
    public string Audience { get; set; } = "samples-downstream-api";
}

/// <summary>
/// Calls the downstream API for a caller: exchanges the caller's access token at the identity provider for a
/// token to the downstream API (RFC 8693; this API authenticates with its own client credentials and must be
/// registered with the token-exchange grant and the audience), then calls the downstream API with it. The
/// downstream API sees the caller as subject and this API as the actor (<c>act</c>); the exchanged token is
/// good for the downstream API only, and for no scope the caller's token did not have.
/// </summary>
internal sealed class DownstreamCaller(HttpClient http, DPoPKey key, IOptions<ValidationSettings> validation, IOptions<DownstreamSettings> downstream)
{
    // Read once per process: the typed client is made anew for each call.
    private static Uri? tokenEndpoint;

    public async Task<(int Status, string Body)> CallAsync(string subjectToken, CancellationToken cancellationToken)
    {
        var settings = validation.Value;
        tokenEndpoint ??= await DiscoverTokenEndpointAsync(settings.Issuer, cancellationToken);
        // With a DPoP proof of this API's own key: the exchanged token is bound to it (and a DPoP-bound caller's
        // token is exchanged only so: a bound token never comes back unbound).
        using var exchangeRequest = new HttpRequestMessage(HttpMethod.Post, tokenEndpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
            ["grant_type"] = "urn:ietf:params:oauth:grant-type:token-exchange",
            ["subject_token"] = subjectToken,
            ["subject_token_type"] = "urn:ietf:params:oauth:token-type:access_token",
            ["audience"] = downstream.Value.Audience,
            ["client_id"] = settings.ClientId ?? "",
            ["client_secret"] = settings.ClientSecret ?? "",
            }),
        };
        exchangeRequest.Headers.Add("DPoP", key.Proof(HttpMethod.Post, tokenEndpoint));
        using var exchange = await http.SendAsync(exchangeRequest, cancellationToken);
        var answer = await exchange.Content.ReadAsStringAsync(cancellationToken);
        if (!exchange.IsSuccessStatusCode)
        {
            // The identity provider refused the exchange: say so, as a gateway would.
            return (StatusCodes.Status502BadGateway, answer);
        }
        var token = JsonDocument.Parse(answer).RootElement.GetProperty("access_token").GetString()!;

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(downstream.Value.BaseAddress!, "api/hello"));
        request.Headers.Authorization = new AuthenticationHeaderValue("DPoP", token);
        request.Headers.Add("DPoP", key.Proof(HttpMethod.Get, request.RequestUri!, token));
        using var response = await http.SendAsync(request, cancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    private async Task<Uri> DiscoverTokenEndpointAsync(Uri issuer, CancellationToken cancellationToken)
    {
        using var discovery = JsonDocument.Parse(await http.GetStringAsync(new Uri(issuer, ".well-known/openid-configuration"), cancellationToken));
        return new Uri(discovery.RootElement.GetProperty("token_endpoint").GetString()!);
    }

    /// <summary>The access token of the caller's Authorization header (Bearer or DPoP scheme).</summary>
    public static string? CallerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        var space = header.IndexOf(' ', StringComparison.Ordinal);
        return space > 0 ? header[(space + 1)..].Trim() : null;
    }
}
