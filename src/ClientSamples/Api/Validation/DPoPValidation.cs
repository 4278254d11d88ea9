using System.Runtime.InteropServices;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Validation;
using OpenIddict.Validation.AspNetCore;
using static OpenIddict.Validation.OpenIddictValidationEvents;

namespace ClientSamples.Api.Validation;

/// <summary>
/// DPoP-bound access tokens (RFC 9449 7), added to OpenIddict's validation through its events (OpenIddict 7
/// validates certificate-bound tokens only). A token whose <c>cnf</c> names a key (<c>jkt</c>) is accepted
/// only with the <c>DPoP</c> authorization scheme and a proof signed by that key, for this request
/// (<c>htm</c>, <c>htu</c>), fresh (<c>iat</c>), for this token (<c>ath</c>) and not seen before
/// (<c>jti</c>). Both validation modes: the <c>cnf</c> comes from the token itself or from introspection.
/// Refusals are 401 with a <c>DPoP</c> challenge. The <c>jti</c>s are remembered in this process's memory:
/// an API with several instances needs a shared cache for them.
/// </summary>
internal static class DPoPValidation
{
    public const string Scheme = "DPoP";
    public const string InvalidProof = "invalid_dpop_proof";

    private const string SchemeProperty = "ClientSamples.DPoP.Scheme";
    private const string BoundProperty = "ClientSamples.DPoP.Bound";

    private static readonly string[] Algorithms = ["ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"];

    /// <summary>One media type in either spelling (RFC 7515 4.1.9).</summary>
    private static readonly string[] ProofTypes = ["dpop+jwt", "application/dpop+jwt"];

    private static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

    private static readonly TimeSpan ProofLifetime = TimeSpan.FromMinutes(1);

    private static readonly JsonWebTokenHandler Handler = new();

    public static OpenIddictValidationBuilder AddDPoP(this OpenIddictValidationBuilder options)
    {
        options.Services.AddMemoryCache();
        options.Services.AddSingleton<SeenProofs>();
        return options
            .RemoveEventHandler(OpenIddictValidationHandlers.Protection.ValidateProofOfPossession.Descriptor)
            .RemoveEventHandler(OpenIddictValidationHandlers.ValidateIntrospectedTokenProofOfPossession.Descriptor)
            .AddEventHandler<ProcessAuthenticationContext>(builder => builder
                .UseSingletonHandler<ReadScheme>()
                .SetOrder(OpenIddictValidationAspNetCoreHandlers.ExtractAccessTokenFromAuthorizationHeader.Descriptor.Order + 1))
            .AddEventHandler<ValidateTokenContext>(builder => builder
                .AddFilter<OpenIddictValidationHandlerFilters.RequireTokenProofOfPossessionValidationEnabled>()
                .UseSingletonHandler<CheckLocalToken>()
                .SetOrder(OpenIddictValidationHandlers.Protection.ValidateProofOfPossession.Descriptor.Order))
            .AddEventHandler<ProcessAuthenticationContext>(builder => builder
                .UseSingletonHandler<CheckIntrospectedToken>()
                .SetOrder(OpenIddictValidationHandlers.ValidateIntrospectedTokenProofOfPossession.Descriptor.Order))
            .AddEventHandler<ProcessChallengeContext>(builder => builder
                .UseSingletonHandler<Challenge>()
                .SetOrder(OpenIddictValidationAspNetCoreHandlers.AttachWwwAuthenticateHeader<ProcessChallengeContext>.Descriptor.Order + 1));
    }

    /// <summary>The token of <c>Authorization: DPoP ...</c>; OpenIddict reads <c>Bearer</c> only.</summary>
    internal sealed class ReadScheme : IOpenIddictValidationHandler<ProcessAuthenticationContext>
    {
        public ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            var header = context.Transaction.GetHttpRequest()?.Headers.Authorization.ToString();
            if (string.IsNullOrEmpty(context.AccessToken) && header is not null && header.StartsWith(Scheme + " ", StringComparison.OrdinalIgnoreCase))
            {
                context.AccessToken = header[(Scheme.Length + 1)..].Trim();
                context.Transaction.Properties[SchemeProperty] = true;
            }
            return ValueTask.CompletedTask;
        }
    }

    internal sealed class CheckLocalToken(SeenProofs seen) : IOpenIddictValidationHandler<ValidateTokenContext>
    {
        private readonly OpenIddictValidationHandlers.Protection.ValidateProofOfPossession inner = new();

        public async ValueTask HandleAsync(ValidateTokenContext context)
        {
            if (!await CheckAsync(context, context.Principal, context.Token, seen))
            {
                await inner.HandleAsync(context);
            }
        }
    }

    internal sealed class CheckIntrospectedToken(SeenProofs seen) : IOpenIddictValidationHandler<ProcessAuthenticationContext>
    {
        private readonly OpenIddictValidationHandlers.ValidateIntrospectedTokenProofOfPossession inner = new();

        public async ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            // An answer of the introspection endpoint, fresh or from the IntrospectionCache: the proof is checked on every call either way.
            if ((context.SendIntrospectionRequest || context.Transaction.Properties.ContainsKey(nameof(IntrospectionCache)))
                && !await CheckAsync(context, context.AccessTokenPrincipal, context.AccessToken, seen))
            {
                await inner.HandleAsync(context);
            }
        }
    }

    /// <summary>Checks a <c>jkt</c>-bound token's proof (true: handled here), or leaves other confirmations to OpenIddict (false).</summary>
    private static async Task<bool> CheckAsync(OpenIddictValidationEvents.BaseValidatingContext context, ClaimsPrincipal? principal, string? token, SeenProofs seen)
    {
        var scheme = context.Transaction.Properties.TryGetValue(SchemeProperty, out var value) && value is true;
        var jkt = Thumbprint(principal?.GetClaim("cnf"));
        if (jkt is null)
        {
            if (scheme)
            {
                context.Reject(OpenIddictConstants.Errors.InvalidToken, "The DPoP scheme is for DPoP-bound access tokens.");
                return true;
            }
            return false;
        }
        context.Transaction.Properties[BoundProperty] = true;
        if (!scheme || context.Transaction.GetHttpRequest() is not { } request || token is null)
        {
            context.Reject(OpenIddictConstants.Errors.InvalidToken, "This access token is DPoP-bound: send it with the DPoP scheme and a proof.");
            return true;
        }
        if (await ProblemAsync(request, token, jkt, seen) is { } problem)
        {
            context.Reject(InvalidProof, problem);
        }
        return true;
    }

    /// <summary>What is wrong with the request's proof (RFC 9449 4.3), or nothing.</summary>
    private static async Task<string?> ProblemAsync(HttpRequest request, string accessToken, string jkt, SeenProofs seen)
    {
        var values = request.Headers[Scheme];
        if (values.Count != 1 || values[0] is not { Length: > 0 and <= 4096 } value)
        {
            return "Send exactly one DPoP proof.";
        }
        JsonWebToken proof;
        JsonWebKey key;
        try
        {
            proof = new JsonWebToken(value);
            using var header = JsonDocument.Parse(Base64UrlEncoder.Decode(proof.EncodedHeader));
            if (!header.RootElement.TryGetProperty("jwk", out var jwk) || jwk.ValueKind != JsonValueKind.Object
                || jwk.EnumerateObject().Any(static m => PrivateMembers.Contains(m.Name, StringComparer.OrdinalIgnoreCase)))
            {
                return "The proof must carry a public key as 'jwk'.";
            }
            key = new JsonWebKey(jwk.GetRawText());
        }
        catch (Exception exception) when (exception is ArgumentException or JsonException or FormatException or SecurityTokenException)
        {
            return "The proof is not a signed JWT with a 'jwk'.";
        }
        if (key.Kty is not ("RSA" or "EC") || !Algorithms.Contains(proof.Alg) || !ProofTypes.Contains(proof.Typ, StringComparer.OrdinalIgnoreCase))
        {
            return "The proof must be a 'dpop+jwt' signed with an asymmetric key.";
        }
        var thumbprint = Base64UrlEncoder.Encode(key.ComputeJwkThumbprint());
        if (!CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(thumbprint.AsSpan()), MemoryMarshal.AsBytes(jkt.AsSpan())))
        {
            return "The proof is signed by another key than the token is bound to.";
        }
        var result = await Handler.ValidateTokenAsync(proof, new TokenValidationParameters
        {
            IssuerSigningKey = key, ValidAlgorithms = Algorithms, ValidTypes = ProofTypes,
            ValidateIssuer = false, ValidateAudience = false, ValidateLifetime = false, RequireExpirationTime = false,
        });
        var url = $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}";
        var now = DateTimeOffset.UtcNow;
        if (!result.IsValid
            || !proof.TryGetPayloadValue<string>("htm", out var htm) || htm != request.Method
            || !proof.TryGetPayloadValue<string>("htu", out var htu) || !SameUrl(htu, url)
            || !proof.TryGetPayloadValue<long>("iat", out var iat)
            || Math.Abs(now.ToUnixTimeSeconds() - Math.Clamp(iat, 0, 253_402_300_799)) > ProofLifetime.TotalSeconds
            || !proof.TryGetPayloadValue<string>("ath", out var ath)
            || ath != Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken))))
        {
            return "The proof's signature, htm, htu, iat or ath does not match this request and token.";
        }
        if (!proof.TryGetPayloadValue<string>("jti", out var jti) || string.IsNullOrEmpty(jti) || !seen.TryAdd(thumbprint + ":" + jti, ProofLifetime * 2))
        {
            return "The proof has no jti or was used already.";
        }
        return null;
    }

    private static bool SameUrl(string htu, string url) =>
        Uri.TryCreate(htu, UriKind.Absolute, out var claimed) && Uri.TryCreate(url, UriKind.Absolute, out var actual)
        && claimed.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)
            == actual.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);

    private static string? Thumbprint(string? confirmation)
    {
        try
        {
            return confirmation is { Length: > 0 } && JsonNode.Parse(confirmation) is JsonObject cnf && cnf["jkt"] is JsonValue jkt
                && jkt.TryGetValue<string>(out var value) ? value : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A refused DPoP request gets 401 and a <c>DPoP</c> challenge listing the algorithms (RFC 9449 7.1).</summary>
    internal sealed class Challenge : IOpenIddictValidationHandler<ProcessChallengeContext>
    {
        public ValueTask HandleAsync(ProcessChallengeContext context)
        {
            // The DPoP scheme was used, or a DPoP-bound token was refused (also when sent as Bearer).
            var dpop = context.Transaction.Properties.ContainsKey(SchemeProperty) || context.Transaction.Properties.ContainsKey(BoundProperty);
            if ((!dpop && context.Response.Error != InvalidProof) || context.Transaction.GetHttpRequest()?.HttpContext.Response is not { } response)
            {
                return ValueTask.CompletedTask;
            }
            response.StatusCode = StatusCodes.Status401Unauthorized;
            var challenge = response.Headers.WWWAuthenticate.ToString();
            var parameters = challenge.StartsWith("Bearer", StringComparison.Ordinal) ? challenge["Bearer".Length..].Trim() : "";
            var algorithms = $"algs=\"{string.Join(' ', Algorithms)}\"";
            response.Headers.WWWAuthenticate = $"{Scheme} {(parameters.Length == 0 ? algorithms : parameters + ", " + algorithms)}";
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>The proofs seen lately (RFC 9449 11.1: a proof is used once).</summary>
    internal sealed class SeenProofs(IMemoryCache cache)
    {
        private readonly Lock gate = new();

        public bool TryAdd(string key, TimeSpan keep)
        {
            lock (gate)
            {
                if (cache.TryGetValue(key, out _))
                {
                    return false;
                }
                cache.Set(key, true, keep);
                return true;
            }
        }
    }
}
