using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Web;
using Microsoft.Playwright;

namespace ClientSamples.EndToEndTests.Cluster;

/// <summary>
/// The test client's authorization-code flow (with PKCE) in a real browser through nginx: authorization
/// request, sign-in page, sign-in, code. No app listens at the redirect URI: the browser's request there
/// is answered in the test, which reads the code from it. Every response from the identity provider is
/// recorded with the node nginx says served it (<c>X-Upstream</c>).
/// </summary>
internal static class BrowserSignIn
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    public static async Task<SignInResult> RunAsync(IPage page, Uri issuer)
    {
        var served = new ConcurrentQueue<ServedResponse>();
        page.Response += (_, response) =>
        {
            if (response.Url.StartsWith(issuer.AbsoluteUri, StringComparison.Ordinal))
            {
                response.Headers.TryGetValue("x-upstream", out var upstream);
                served.Enqueue(new(response.Request.Method, new Uri(response.Url).AbsolutePath, response.Status, upstream));
            }
        };
        var callback = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync(ClusterFixture.RedirectUri.GetLeftPart(UriPartial.Authority) + "/**", async route =>
        {
            callback.TrySetResult(new Uri(route.Request.Url));
            await route.FulfillAsync(new() { Status = 200, ContentType = "text/plain", Body = "Signed in." });
        });

        var verifier = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        var challenge = Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var state = Guid.NewGuid().ToString("N");
        var query = HttpUtility.ParseQueryString("");
        query["client_id"] = ClusterFixture.ClientId;
        query["response_type"] = "code";
        query["redirect_uri"] = ClusterFixture.RedirectUri.AbsoluteUri;
        query["scope"] = ClusterFixture.Scopes;
        query["state"] = state;
        query["nonce"] = Guid.NewGuid().ToString("N");
        query["code_challenge"] = challenge;
        query["code_challenge_method"] = "S256";

        await page.GotoAsync(new Uri(issuer, "connect/authorize?" + query).AbsoluteUri);
        var login = new LoginPage(page);
        await login.WaitAsync();
        await login.SignInAsync(ClusterFixture.UserName, ClusterFixture.Password);
        var redirect = await callback.Task.WaitAsync(Deadline);
        // The route sees the request before the browser has committed the navigation to the answer: a
        // navigation started now (the next step of a test) would be interrupted by it. Commit is enough; the
        // page's load event is not awaited (a run once waited 20 s for it after the callback was answered).
        await page.WaitForURLAsync(url => url.StartsWith(ClusterFixture.RedirectUri.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal),
            new() { Timeout = (float)Deadline.TotalMilliseconds, WaitUntil = WaitUntilState.Commit });

        var parameters = HttpUtility.ParseQueryString(redirect.Query);
        Assert.Equal(state, parameters["state"]);
        var code = parameters["code"];
        Assert.False(string.IsNullOrEmpty(code), $"No code in {redirect}");
        return new SignInResult(code, verifier, [.. served]);
    }
}

/// <summary>The code the browser brought back, its PKCE verifier, and what served the flow.</summary>
internal sealed record SignInResult(string Code, string Verifier, IReadOnlyList<ServedResponse> Served);

/// <summary>A response of the identity provider to the browser and the node that sent it.</summary>
internal sealed record ServedResponse(string Method, string Path, int Status, string? Upstream)
{
    public override string ToString() => $"{Method} {Path} {Status} from {Upstream ?? "?"}";
}
