using System.Text;
using IdentityServer.Authorization;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace IdentityServer.Account;

/// <summary>
/// The absolute links the server mails (reset, verification, change of address). Their base is the
/// configured issuer, never the request's Host header: a forged Host would otherwise send a
/// victim's reset token to the forger's server. Only Development, which has no issuer, takes the
/// base from the request. Tokens travel base64url-encoded in the <c>token</c> parameter, a name
/// the log redaction masks.
/// </summary>
internal sealed class AccountLinks(IOptions<TokenOptions> tokens, IHttpContextAccessor httpContextAccessor)
{
    public const string TokenParameter = "token";

    public Uri Create(string pagePath, string userId, string token, IEnumerable<KeyValuePair<string, string?>>? extra = null)
    {
        var parameters = new List<KeyValuePair<string, string?>> { new("userId", userId) };
        parameters.AddRange(extra ?? []);
        parameters.Add(new(TokenParameter, EncodeToken(token)));
        return new Uri(BaseUri(), QueryHelpers.AddQueryString(pagePath.TrimStart('/'), parameters));
    }

    /// <summary>The token as it goes into a link.</summary>
    public static string EncodeToken(string token) => WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(token));

    /// <summary>The token a link carried, or null when it cannot be one (a tampered or truncated link).</summary>
    public static string? DecodeToken(string? encoded)
    {
        if (string.IsNullOrEmpty(encoded) || encoded.Length > 4096)
        {
            return null;
        }
        try
        {
            return Encoding.UTF8.GetString(WebEncoders.Base64UrlDecode(encoded));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private Uri BaseUri()
    {
        if (tokens.Value.Issuer is { } issuer)
        {
            return issuer.AbsoluteUri.EndsWith('/') ? issuer : new Uri(issuer.AbsoluteUri + "/");
        }
        var request = httpContextAccessor.HttpContext?.Request
            ?? throw new InvalidOperationException("Links are made during a request unless IdentityServer:Issuer is set.");
        return new Uri($"{request.Scheme}://{request.Host}{request.PathBase}/");
    }
}
