using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ClientSamples.EndToEndTests.Infrastructure;

namespace ClientSamples.EndToEndTests;

/// <summary>
/// With <c>IdentityServer:AccessTokenAlgorithm=ES256</c> the sample API, validating JWTs locally, accepts
/// the ES256 access tokens: it takes the keys from the JWKS (the ECDSA one included) and pins no algorithm.
/// Its own identity provider and API, since the shared landscape runs with the default RS256.
/// </summary>
public sealed class Es256ApiTests : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly TestFolder folder = new("client-samples-es256");
    private readonly Uri issuer = new($"http://localhost:{BuildOutput.FreePort()}/");
    private readonly Uri api = new($"http://localhost:{BuildOutput.FreePort()}/");
    private readonly List<AppProcess> processes = [];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(folder.Path);
        var identityServer = AppProcess.Start("identity provider (ES256)", "src/IdentityServer", "IdentityServer.dll",
        [
            "--urls", issuer.GetLeftPart(UriPartial.Authority),
            $"--ConnectionStrings:Default=Data Source={folder.File("idp.db")}",
            $"--Certificates:DevelopmentPath={folder.File("certs")}",
            $"--DataProtection:KeysPath={folder.File("keys")}",
            $"--Seed:Path={Path.Combine(BuildOutput.RepositoryRoot, "src", "ClientSamples", "seed.json")}",
            "--IdentityServer:AccessTokenAlgorithm=ES256",
            "--Logging:LogLevel:Default=Warning",
        ]);
        processes.Add(identityServer);
        var jwtApi = AppProcess.Start("API (Jwt)", "src/ClientSamples/Api", "ClientSamples.Api.dll",
        [
            "--urls", api.GetLeftPart(UriPartial.Authority),
            $"--Validation:Issuer={issuer.AbsoluteUri}",
            "--Validation:Mode=Jwt",
        ]);
        processes.Add(jwtApi);
        await Task.WhenAll(
            identityServer.WaitUntilServingAsync(new Uri(issuer, ".well-known/openid-configuration"), StartTimeout),
            jwtApi.WaitUntilServingAsync(api, StartTimeout));
    }

    [Fact]
    public async Task JwtApi_Es256AccessToken_Accepted()
    {
        // The samples' worker must bind its tokens (RequireDPoP): the token request carries a proof.
        using var key = new DPoPProof();
        using var http = new HttpClient();
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Post, new Uri(issuer, "connect/token"))
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = "samples-worker",
                ["client_secret"] = "samples-worker-secret-not-for-production",
                ["scope"] = "samples-api",
            }),
        };
        tokenRequest.Headers.Add("DPoP", key.For("POST", new Uri(issuer, "connect/token")));
        using var tokenResponse = await http.SendAsync(tokenRequest);
        Assert.Equal(HttpStatusCode.OK, tokenResponse.StatusCode);
        var token = JsonDocument.Parse(await tokenResponse.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;
        var header = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(Base64(token.Split('.')[0])))).RootElement;
        Assert.Equal("ES256", header.GetProperty("alg").GetString());

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(api, "api/hello"));
        request.Headers.Authorization = new AuthenticationHeaderValue("DPoP", token);
        request.Headers.Add("DPoP", key.For("GET", request.RequestUri!, token));
        using var response = await http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}\n{string.Join("\n\n", processes.Select(p => p.Tail(40)))}");
        var hello = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("samples-worker", hello.GetProperty("clientId").GetString());
        Assert.Equal("Jwt", hello.GetProperty("validatedBy").GetString());
        Assert.Equal(key.Thumbprint, hello.GetProperty("boundTo").GetString());
    }

    public async Task DisposeAsync()
    {
        foreach (var process in processes)
        {
            await process.DisposeAsync();
        }
        folder.Dispose();
    }

    private static string Base64(string base64Url)
    {
        var text = base64Url.Replace('-', '+').Replace('_', '/');
        return text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '=');
    }
}
