using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ClientSamples.EndToEndTests.Infrastructure;

namespace ClientSamples.EndToEndTests;

/// <summary>
/// The sample API with DPoP-bound tokens (RFC 9449 7), in both its modes (introspection, local JWT): a token
/// the identity provider bound to a key is accepted only with the DPoP scheme and a fresh proof by that key
/// for this call and this token; as a Bearer token, with a replayed proof, a proof for another URL or by
/// another key, it is a 401 with a DPoP challenge.
/// </summary>
[Collection(SamplesDefinition.Name)]
public sealed class DPoPApiTests(SamplesFixture samples)
{
    [Fact]
    public async Task BoundToken_AcceptedOnlyWithAProofByItsKey_InBothValidationModes()
    {
        using var key = new DPoPProof();
        using var thief = new DPoPProof();
        using var http = new HttpClient();
        var token = await samples.DPoPWorkerTokenAsync(http, key);

        // A third API caches introspection answers: a cached answer must not spare the proof.
        var cachingApi = new Uri($"http://localhost:{BuildOutput.FreePort()}/");
        await using var caching = samples.StartCachingApi(cachingApi);
        await caching.WaitUntilServingAsync(cachingApi, TimeSpan.FromSeconds(90));

        foreach (var api in new[] { samples.IntrospectionApi, samples.JwtApi, cachingApi })
        {
            var hello = new Uri(api, "api/hello");
            var replayed = key.For("GET", hello, token);

            var (ok, body, _) = await CallAsync(http, hello, "DPoP", token, replayed);
            var (again, _, againChallenge) = await CallAsync(http, hello, "DPoP", token, replayed);
            var (bearer, _, bearerChallenge) = await CallAsync(http, hello, "Bearer", token, null);
            var (noProof, _, noProofChallenge) = await CallAsync(http, hello, "DPoP", token, null);
            var (otherUrl, _, otherUrlChallenge) = await CallAsync(http, hello, "DPoP", token, key.For("GET", new Uri(api, "api/other"), token));
            var (stolen, _, stolenChallenge) = await CallAsync(http, hello, "DPoP", token, thief.For("GET", hello, token));

            Assert.True(ok == HttpStatusCode.OK, $"{api}: {ok} {body}\n{samples.Logs()}");
            Assert.Equal(key.Thumbprint, JsonDocument.Parse(body).RootElement.GetProperty("boundTo").GetString());
            Assert.Equal(HttpStatusCode.Unauthorized, again);
            Assert.Contains("invalid_dpop_proof", againChallenge, StringComparison.Ordinal);
            Assert.StartsWith("DPoP ", againChallenge, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.Unauthorized, bearer);
            Assert.Equal(HttpStatusCode.Unauthorized, noProof);
            Assert.Equal(HttpStatusCode.Unauthorized, otherUrl);
            Assert.Equal(HttpStatusCode.Unauthorized, stolen);
            Assert.Contains("algs=\"", stolenChallenge, StringComparison.Ordinal);
            Assert.All(new[] { bearerChallenge, noProofChallenge, otherUrlChallenge }, challenge => Assert.StartsWith("DPoP ", challenge, StringComparison.Ordinal));
        }
    }

    private static async Task<(HttpStatusCode Status, string Body, string Challenge)> CallAsync(HttpClient http, Uri url, string scheme, string token, string? proof)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue(scheme, token);
        if (proof is not null)
        {
            request.Headers.Add("DPoP", proof);
        }
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.WwwAuthenticate.ToString());
    }
}
