using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ClientSamples.EndToEndTests.Infrastructure;

namespace ClientSamples.EndToEndTests;

/// <summary>
/// API → downstream API with token exchange (RFC 8693), as real processes: the sample API exchanges its
/// caller's token for one to the downstream API, which sees the caller as subject and the API as the actor;
/// the caller's own token is refused downstream (another audience).
/// </summary>
[Collection(SamplesDefinition.Name)]
public sealed class TokenExchangeTests(SamplesFixture samples)
{
    [Fact]
    public async Task Api_CallsTheDownstreamApi_WithAnExchangedToken_ActingForItsCaller()
    {
        using var key = new DPoPProof();
        using var http = new HttpClient();
        var token = await samples.DPoPWorkerTokenAsync(http, key);

        var chained = new Uri(samples.IntrospectionApi, "api/hello/downstream");
        using var call = new HttpRequestMessage(HttpMethod.Get, chained);
        call.Headers.Authorization = new AuthenticationHeaderValue("DPoP", token);
        call.Headers.Add("DPoP", key.For("GET", chained, token));
        using var answer = await http.SendAsync(call);
        var body = await answer.Content.ReadAsStringAsync();

        Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{answer.StatusCode} {body}\n{samples.Logs()}");
        var downstream = JsonDocument.Parse(body).RootElement;
        Assert.Equal("samples-worker", downstream.GetProperty("subject").GetString());
        Assert.Equal("samples-api", downstream.GetProperty("clientId").GetString());
        Assert.Equal("samples-api", downstream.GetProperty("actor").GetString());
        Assert.Equal("Jwt", downstream.GetProperty("validatedBy").GetString());
        // Bound to the API's own key (a DPoP-bound caller's token is exchanged only so), not to the worker's.
        Assert.Matches("^[A-Za-z0-9_-]{43}$", downstream.GetProperty("boundTo").GetString());
        Assert.NotEqual(key.Thumbprint, downstream.GetProperty("boundTo").GetString());

        // The caller's own token is not for the downstream API.
        var direct = new Uri(samples.DownstreamApi, "api/hello");
        using var straight = new HttpRequestMessage(HttpMethod.Get, direct);
        straight.Headers.Authorization = new AuthenticationHeaderValue("DPoP", token);
        straight.Headers.Add("DPoP", key.For("GET", direct, token));
        using var refused = await http.SendAsync(straight);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("invalid_token", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }
}
