using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ClientSamples.EndToEndTests.Infrastructure;

/// <summary>A DPoP key (ECDSA P-256) and the proofs it signs (RFC 9449 4.2), made by hand as any client could.</summary>
internal sealed class DPoPProof : IDisposable
{
    private readonly ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public DPoPProof()
    {
        var point = key.ExportParameters(false).Q;
        Jwk = new Dictionary<string, string> { ["crv"] = "P-256", ["kty"] = "EC", ["x"] = Base64Url(point.X!), ["y"] = Base64Url(point.Y!) };
        // RFC 7638: the required members in lexicographic order, no white space.
        Thumbprint = Base64Url(SHA256.HashData(Encoding.UTF8.GetBytes($$"""{"crv":"P-256","kty":"EC","x":"{{Jwk["x"]}}","y":"{{Jwk["y"]}}"}""")));
    }

    public Dictionary<string, string> Jwk { get; }

    /// <summary>The key's SHA-256 JWK thumbprint: the <c>cnf.jkt</c> of tokens bound to it.</summary>
    public string Thumbprint { get; }

    /// <summary>A proof for one request to <paramref name="url"/> (its query is left out), with <c>ath</c> when it goes with an access token.</summary>
    public string For(string method, Uri url, string? accessToken = null)
    {
        var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["typ"] = "dpop+jwt", ["alg"] = "ES256", ["jwk"] = Jwk }));
        var claims = new Dictionary<string, object>
        {
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["htm"] = method,
            ["htu"] = url.GetLeftPart(UriPartial.Path),
            ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        };
        if (accessToken is not null)
        {
            claims["ath"] = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
        }
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signature = key.SignData(Encoding.ASCII.GetBytes(header + "." + payload), HashAlgorithmName.SHA256);
        return header + "." + payload + "." + Base64Url(signature);
    }

    public void Dispose() => key.Dispose();

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
