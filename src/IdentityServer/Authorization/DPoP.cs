using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// DPoP (RFC 9449), which OpenIddict does not have, added through its events:
/// <list type="bullet">
/// <item>A proof (the <c>DPoP</c> header) at the token, pushed-authorization and userinfo endpoints is checked
/// (<see cref="DPoPProofs"/>), used once (its <c>jti</c>, remembered through <see cref="OneTimeUse"/> and so
/// shared by every node), and at the token and pushed-authorization endpoints carries a server nonce when
/// <see cref="DPoPOptions.RequireNonce"/> is on.</item>
/// <item>Tokens issued with a proof are bound to its key: the access token's <c>cnf.jkt</c> (token type
/// <c>DPoP</c>), and a public client's refresh token (RFC 9449 5). An authorization request's <c>dpop_jkt</c>
/// (or a proof at the pushed-authorization endpoint) binds the code (RFC 9449 10).</item>
/// <item>A bound token is accepted only with a proof by its key: a bound refresh token or code at the token
/// endpoint, a bound access token at the userinfo endpoint (scheme <c>DPoP</c>, proof with <c>ath</c>).
/// OpenIddict's own proof-of-possession check (certificates only; it fails on <c>jkt</c>) is wrapped.</item>
/// <item>A client registered with <c>RequireDPoP</c> gets no token without a proof. Introspection answers
/// <c>cnf</c> (OpenIddict) and <c>token_type: DPoP</c>; discovery lists the proof algorithms.</item>
/// </list>
/// </summary>
internal static partial class DPoP
{
    /// <summary>The application requirement of a client registered with <c>RequireDPoP</c>.</summary>
    public const string Requirement = "ft:dpop";

    /// <summary>The token type of a remembered proof (never issued, never accepted as a token).</summary>
    public const string UsedProofType = "used_dpop_proof";

    public const string AlgorithmsMetadata = "dpop_signing_alg_values_supported";

    /// <summary>The confirmation claim (RFC 7800) that binds a token to a key.</summary>
    private const string ConfirmationClaim = "cnf";

    private const string ProofProperty = "IdentityServer.DPoP.Proof";
    private const string SchemeProperty = "IdentityServer.DPoP.Scheme";
    private const string BoundProperty = "IdentityServer.DPoP.Bound";

    /// <summary>OpenIddict's proof-of-possession check, which <see cref="CheckBinding"/> wraps.</summary>
    public static OpenIddictServerHandlerDescriptor Replaced => OpenIddictServerHandlers.Protection.ValidateProofOfPossession.Descriptor;

    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
    [
        OpenIddictServerHandlerDescriptor.CreateBuilder<ExtractUserInfoRequestContext>()
            .UseSingletonHandler<ReadDPoPScheme>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ExtractAccessToken<ExtractUserInfoRequestContext>.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
            .UseSingletonHandler<ThumbprintParameterCheck>()
            .SetOrder(OpenIddictServerHandlers.Authentication.ValidatePromptParameter.Descriptor.Order + 501)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidatePushedAuthorizationRequestContext>()
            .UseSingletonHandler<ThumbprintParameterCheck>()
            .SetOrder(OpenIddictServerHandlers.Authentication.ValidatePushedPromptParameter.Descriptor.Order + 501)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .UseScopedHandler<CheckProof>()
            // Once OpenIddict has authenticated the client, before its client assertion is used (a refusal for the
            // nonce must leave it usable for the retry) and before any token that may be bound is validated.
            .SetOrder(OpenIddictServerHandlers.ValidateClientSecret.Descriptor.Order + 3)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenProofOfPossessionValidationEnabled>()
            .UseSingletonHandler<CheckBinding>()
            .SetOrder(Replaced.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .UseScopedHandler<BindTokens>()
            // Once every token's principal is prepared, before any token is generated.
            .SetOrder(OpenIddictServerHandlers.PrepareUserCodePrincipal.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .UseSingletonHandler<AttachTokenType>()
            .SetOrder(OpenIddictServerHandlers.AttachSignInParameters.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleIntrospectionRequestContext>()
            .UseSingletonHandler<AttachTokenType>()
            .SetOrder(OpenIddictServerHandlers.Introspection.AttachMetadataClaims.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
            .UseSingletonHandler<AttachNonce>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.AttachCacheControlHeader<ApplyTokenResponseContext>.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyPushedAuthorizationResponseContext>()
            .UseSingletonHandler<AttachNonce>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.AttachCacheControlHeader<ApplyPushedAuthorizationResponseContext>.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyUserInfoResponseContext>()
            .UseSingletonHandler<DPoPChallenge>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.AttachWwwAuthenticateHeader<ApplyUserInfoResponseContext>.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
            .UseSingletonHandler<ListAlgorithms>()
            .SetOrder(HandlerOrder.AfterOpenIddict)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
    ];

    /// <summary>The key thumbprint a token is bound to by its <c>cnf</c> claim, if any.</summary>
    public static string? BoundThumbprint(string? confirmation)
    {
        if (string.IsNullOrEmpty(confirmation))
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(confirmation) is JsonObject cnf && cnf["jkt"] is JsonValue value && value.TryGetValue<string>(out var jkt) ? jkt : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// How long a proof's jti is remembered: while any node could still accept the proof (its iat plus the
    /// window), with the same five minutes of clock skew between nodes that client assertions get.
    /// </summary>
    public static DateTimeOffset RememberUntil(DPoPProof proof, TimeSpan lifetime) => proof.IssuedAt + lifetime + TimeSpan.FromMinutes(5);

    /// <summary>A proof's key is the one a token is bound to (compared in constant time).</summary>
    public static bool SameThumbprint(string proof, string bound) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(proof.AsSpan()), MemoryMarshal.AsBytes(bound.AsSpan()));

    private static bool UsesScheme(OpenIddictServerTransaction transaction) =>
        transaction.Properties.TryGetValue(SchemeProperty, out var value) && value is true;

    private static JsonObject Confirmation(string thumbprint) => new() { ["jkt"] = thumbprint };

    [LoggerMessage(EventId = 4130, Level = LogLevel.Information, Message = "DPoP proof refused at {Endpoint}: {Reason}")]
    private static partial void LogRefused(ILogger logger, OpenIddictServerEndpointType endpoint, string reason);

    /// <summary>Reads an access token sent with the <c>DPoP</c> authorization scheme (RFC 9449 7.1); OpenIddict reads <c>Bearer</c> only.</summary>
    internal sealed class ReadDPoPScheme : IOpenIddictServerHandler<ExtractUserInfoRequestContext>
    {
        public ValueTask HandleAsync(ExtractUserInfoRequestContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            var header = context.Transaction.GetHttpRequest()?.Headers.Authorization.ToString();
            if (header is not null && header.StartsWith(DPoPProofs.Scheme + " ", StringComparison.OrdinalIgnoreCase) && context.Request is not null)
            {
                context.Request.AccessToken = header[(DPoPProofs.Scheme.Length + 1)..].Trim();
                context.Transaction.Properties[SchemeProperty] = true;
            }
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>An authorization request's <c>dpop_jkt</c> must be a SHA-256 JWK thumbprint (RFC 9449 10).</summary>
    internal sealed class ThumbprintParameterCheck
        : IOpenIddictServerHandler<ValidateAuthorizationRequestContext>, IOpenIddictServerHandler<ValidatePushedAuthorizationRequestContext>
    {
        public ValueTask HandleAsync(ValidateAuthorizationRequestContext context) => Check(context);

        public ValueTask HandleAsync(ValidatePushedAuthorizationRequestContext context) => Check(context);

        private static ValueTask Check(BaseValidatingContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            var value = (string?)context.Transaction.Request!.GetParameter(DPoPProofs.ThumbprintParameter);
            if (!string.IsNullOrEmpty(value) && !DPoPProofs.IsThumbprint(value))
            {
                context.Reject(Errors.InvalidRequest, "The 'dpop_jkt' parameter must be the base64url SHA-256 thumbprint of a JWK (RFC 7638).");
            }
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Checks the request's proof, if any, and remembers it for the binding checks and the tokens.</summary>
    internal sealed class CheckProof(
        DPoPRequestProofs proofs, IOpenIddictApplicationManager applications, ILogger<CheckProof> logger) : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        public async ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (context.EndpointType is not (OpenIddictServerEndpointType.Token or OpenIddictServerEndpointType.PushedAuthorization
                    or OpenIddictServerEndpointType.UserInfo)
                || context.Transaction.GetHttpRequest() is not { } http)
            {
                return;
            }
            var userInfo = context.EndpointType == OpenIddictServerEndpointType.UserInfo;
            // A Bearer access token's proof is not read (RFC 9449 7.2): a bound token then fails its binding check.
            if (userInfo && !UsesScheme(context.Transaction))
            {
                return;
            }
            if (http.Headers[DPoPProofs.Header].Count == 0)
            {
                if (userInfo)
                {
                    Refuse(context, DPoPProofs.InvalidProof, "A DPoP access token must come with a DPoP proof.");
                }
                else if (context.EndpointType == OpenIddictServerEndpointType.Token && !string.IsNullOrEmpty(context.ClientId)
                    && await applications.FindByClientIdAsync(context.ClientId, context.CancellationToken) is { } application
                    && await applications.HasRequirementAsync(application, Requirement, context.CancellationToken))
                {
                    Refuse(context, DPoPProofs.InvalidProof, "This client must send a DPoP proof with its token requests.");
                }
                return;
            }
            if (context.RequestUri is null)
            {
                Refuse(context, DPoPProofs.InvalidProof, "The request's URL cannot be compared with the DPoP proof's.");
                return;
            }
            // Server nonces are asked for at the token and pushed-authorization endpoints; a resource's are its own (RFC 9449 9).
            var (proof, error, problem) = await proofs.CheckAsync(http, context.RequestUri, userInfo ? context.Request?.AccessToken : null,
                askNonce: !userInfo, context.CancellationToken);
            if (proof is null)
            {
                Refuse(context, error!, problem!);
                return;
            }
            if (context.EndpointType == OpenIddictServerEndpointType.PushedAuthorization)
            {
                // RFC 9449 10.1: the proof at the pushed-authorization endpoint binds the code, as dpop_jkt would.
                var requested = (string?)context.Request!.GetParameter(DPoPProofs.ThumbprintParameter);
                if (!string.IsNullOrEmpty(requested) && !string.Equals(requested, proof.Thumbprint, StringComparison.Ordinal))
                {
                    Refuse(context, DPoPProofs.InvalidProof, "The 'dpop_jkt' parameter is not the thumbprint of the DPoP proof's key.");
                    return;
                }
                context.Request.SetParameter(DPoPProofs.ThumbprintParameter, proof.Thumbprint);
            }
            context.Transaction.SetProperty(ProofProperty, proof);
        }

        private void Refuse(ProcessAuthenticationContext context, string error, string reason)
        {
            LogRefused(logger, context.EndpointType, reason);
            context.Reject(error, reason);
        }
    }

    /// <summary>
    /// A token bound to a key (<c>cnf.jkt</c>) is accepted only with a proof by that key; other confirmations
    /// (certificate thumbprints) are OpenIddict's to check.
    /// </summary>
    internal sealed class CheckBinding : IOpenIddictServerHandler<ValidateTokenContext>
    {
        private readonly OpenIddictServerHandlers.Protection.ValidateProofOfPossession inner = new();

        public ValueTask HandleAsync(ValidateTokenContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            var confirmation = context.Principal?.GetClaim(ConfirmationClaim);
            if (BoundThumbprint(confirmation) is not { } jkt)
            {
                // RFC 9449 7.1: the DPoP scheme is for DPoP-bound tokens.
                if (context.EndpointType == OpenIddictServerEndpointType.UserInfo && UsesScheme(context.Transaction))
                {
                    context.Reject(Errors.InvalidToken, "The DPoP scheme is for DPoP-bound access tokens.");
                    return ValueTask.CompletedTask;
                }
                return inner.HandleAsync(context);
            }
            // A token exchange's subject token comes from the service it was issued for (its audience, which
            // authenticates as a client), not from its holder, so the holder's key is not asked for. The service
            // must send a proof of its own key, which binds the exchanged token: a bound token never comes back unbound.
            if (context.EndpointType == OpenIddictServerEndpointType.Token && context.Request?.IsTokenExchangeGrantType() == true
                && context.Principal!.HasTokenType(TokenTypeIdentifiers.AccessToken))
            {
                if (context.Transaction.GetProperty<DPoPProof>(ProofProperty) is null)
                {
                    context.Reject(DPoPProofs.InvalidProof, "The subject token is DPoP-bound: exchange it with a DPoP proof of your own key, which the new token is bound to.");
                }
                return ValueTask.CompletedTask;
            }
            var proof = context.Transaction.GetProperty<DPoPProof>(ProofProperty);
            var token = context.EndpointType == OpenIddictServerEndpointType.Token;
            // A refusal of a bound token is answered with a DPoP challenge (RFC 9449 7.1), also when it came as Bearer.
            context.Transaction.Properties[BoundProperty] = true;
            if (proof is null)
            {
                context.Reject(token ? DPoPProofs.InvalidProof : Errors.InvalidToken,
                    "The token is bound to a DPoP key: it must come with a DPoP proof by that key" + (token ? "." : ", with the DPoP authorization scheme."));
            }
            else if (!SameThumbprint(proof.Thumbprint, jkt))
            {
                context.Reject(token ? Errors.InvalidGrant : DPoPProofs.InvalidProof, "The DPoP proof is signed by another key than the one the token is bound to.");
            }
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Binds the tokens a proof comes with (and a code to a requested key) through their <c>cnf</c> claim.</summary>
    internal sealed class BindTokens(IOpenIddictApplicationManager applications) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (context.EndpointType == OpenIddictServerEndpointType.Authorization)
            {
                if (context.AuthorizationCodePrincipal is { } code
                    && (string?)context.Request.GetParameter(DPoPProofs.ThumbprintParameter) is { Length: > 0 } requested)
                {
                    code.SetClaim(ConfirmationClaim, Confirmation(requested));
                }
                return;
            }
            if (context.EndpointType != OpenIddictServerEndpointType.Token || context.Transaction.GetProperty<DPoPProof>(ProofProperty) is not { } proof)
            {
                return;
            }
            context.AccessTokenPrincipal?.SetClaim(ConfirmationClaim, Confirmation(proof.Thumbprint));
            if (context.IssuedTokenType == TokenTypeIdentifiers.AccessToken)
            {
                // A token exchange's result (RFC 8693 with RFC 9449).
                context.IssuedTokenPrincipal?.SetClaim(ConfirmationClaim, Confirmation(proof.Thumbprint));
            }
            // RFC 9449 5: a public client's refresh token is bound too; a confidential client's is already bound to its credentials.
            if (context.RefreshTokenPrincipal is { } refresh && !string.IsNullOrEmpty(context.ClientId)
                && await applications.FindByClientIdAsync(context.ClientId, context.CancellationToken) is { } application
                && await applications.HasClientTypeAsync(application, ClientTypes.Public, context.CancellationToken))
            {
                refresh.SetClaim(ConfirmationClaim, Confirmation(proof.Thumbprint));
            }
        }
    }

    /// <summary><c>token_type: DPoP</c> for a bound access token, in the token response and introspection (RFC 9449 5, 6.2).</summary>
    internal sealed class AttachTokenType : IOpenIddictServerHandler<ProcessSignInContext>, IOpenIddictServerHandler<HandleIntrospectionRequestContext>
    {
        public ValueTask HandleAsync(ProcessSignInContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            var principal = context.IncludeIssuedToken ? context.IssuedTokenPrincipal : context.AccessTokenPrincipal;
            if (context.Response.AccessToken is not null && BoundThumbprint(principal?.GetClaim(ConfirmationClaim)) is not null)
            {
                context.Response.TokenType = DPoPProofs.Scheme;
            }
            return ValueTask.CompletedTask;
        }

        public ValueTask HandleAsync(HandleIntrospectionRequestContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (context.Confirmation?["jkt"] is not null)
            {
                context.TokenType = DPoPProofs.Scheme;
            }
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>The current server nonce on every answer of the token and pushed-authorization endpoints, when nonces are required.</summary>
    internal sealed class AttachNonce(DPoPNonces nonces, IOptions<DPoPOptions> options)
        : IOpenIddictServerHandler<ApplyTokenResponseContext>, IOpenIddictServerHandler<ApplyPushedAuthorizationResponseContext>
    {
        public ValueTask HandleAsync(ApplyTokenResponseContext context) => Attach(context);

        public ValueTask HandleAsync(ApplyPushedAuthorizationResponseContext context) => Attach(context);

        private ValueTask Attach(BaseRequestContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (options.Value.RequireNonce && context.Transaction.GetHttpRequest() is { } http)
            {
                http.HttpContext.Response.Headers[DPoPProofs.NonceHeader] = nonces.Current;
            }
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// A refused DPoP request at the userinfo endpoint gets a <c>DPoP</c> challenge that lists the algorithms
    /// (RFC 9449 7.1); OpenIddict answers <c>Bearer</c>, and 400 for <c>invalid_dpop_proof</c>.
    /// </summary>
    internal sealed class DPoPChallenge : IOpenIddictServerHandler<ApplyUserInfoResponseContext>
    {
        public ValueTask HandleAsync(ApplyUserInfoResponseContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            var error = context.Transaction.Response?.Error;
            if (string.IsNullOrEmpty(error) || context.Transaction.GetHttpRequest()?.HttpContext.Response is not { } response
                || !(UsesScheme(context.Transaction) || error == DPoPProofs.InvalidProof || context.Transaction.Properties.ContainsKey(BoundProperty)))
            {
                return ValueTask.CompletedTask;
            }
            Challenge(response, error);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Turns OpenIddict's refusal of a DPoP request into RFC 9449 7.1's: a <c>DPoP</c> challenge, with the same
    /// parameters, that lists the algorithms; 401 for a refused proof (OpenIddict answers 400 for
    /// <c>invalid_dpop_proof</c>), and RFC 6750 3.1's status for the other errors as OpenIddict set it (401
    /// <c>invalid_token</c>, 403 <c>insufficient_scope</c>, 400 <c>invalid_request</c>), so that a client does not
    /// take a missing scope for an expired token.
    /// </summary>
    public static void Challenge(HttpResponse response, string? error)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (error is DPoPProofs.InvalidProof or DPoPProofs.UseNonce)
        {
            response.StatusCode = StatusCodes.Status401Unauthorized;
        }
        var challenge = response.Headers.WWWAuthenticate.ToString();
        var parameters = challenge.StartsWith("Bearer", StringComparison.Ordinal) ? challenge["Bearer".Length..].Trim() : "";
        var algorithms = $"algs=\"{string.Join(' ', DPoPProofs.Algorithms)}\"";
        response.Headers.WWWAuthenticate = $"{DPoPProofs.Scheme} {(parameters.Length == 0 ? algorithms : parameters + ", " + algorithms)}";
    }

    /// <summary>Discovery lists the algorithms a proof may be signed with (RFC 9449 5.1).</summary>
    internal sealed class ListAlgorithms : IOpenIddictServerHandler<HandleConfigurationRequestContext>
    {
        public ValueTask HandleAsync(HandleConfigurationRequestContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            context.Metadata[AlgorithmsMetadata] = new JsonArray([.. DPoPProofs.Algorithms.Select(static a => JsonValue.Create(a))]);
            return ValueTask.CompletedTask;
        }
    }
}
