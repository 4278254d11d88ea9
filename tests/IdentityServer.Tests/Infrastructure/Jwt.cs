using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tests.Infrastructure;

internal static class Jwt
{
    public static JsonElement Header(string token) => Part(token, 0);

    public static JsonElement Payload(string token) => Part(token, 1);

    private static JsonElement Part(string token, int index)
    {
        var parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        return JsonDocument.Parse(WebEncoders.Base64UrlDecode(parts[index])).RootElement.Clone();
    }

    /// <summary>Validates a token's signature against the server's published JWKS, as a resource server would.</summary>
    public static async Task<TokenValidationResult> ValidateAsync(HttpClient http, string token, string audience)
    {
        var jwks = new JsonWebKeySet(await http.GetStringAsync(new Uri("/.well-known/jwks", UriKind.Relative)));
        return await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = IdentityServerFactory.BaseAddress.AbsoluteUri,
            ValidAudience = audience,
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidTypes = ["at+jwt"],
        });
    }
}
