using IdentityServer.Authorization;
using Microsoft.AspNetCore;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Validation;
using OpenIddict.Validation.AspNetCore;
using static OpenIddict.Validation.OpenIddictValidationEvents;

namespace IdentityServer.Admin;

/// <summary>
/// DPoP-bound access tokens at the admin API (RFC 9449 7), through OpenIddict validation's events (OpenIddict 7
/// checks certificate-bound tokens only, and fails on a key-bound one). A bound token is accepted only as
/// <c>Authorization: DPoP ...</c> with a proof by its key for this request and token, used once on every node;
/// the DPoP scheme with an unbound token is refused. A client registered with <c>RequireDPoP</c> can so use the API.
/// </summary>
internal static class AdminDPoP
{
    private const string SchemeProperty = "IdentityServer.Admin.DPoP.Scheme";
    private const string BoundProperty = "IdentityServer.Admin.DPoP.Bound";

    public static OpenIddictValidationBuilder AcceptDPoP(this OpenIddictValidationBuilder options) => options
        .RemoveEventHandler(OpenIddictValidationHandlers.Protection.ValidateProofOfPossession.Descriptor)
        .AddEventHandler<ProcessAuthenticationContext>(static builder => builder
            .UseSingletonHandler<ReadScheme>()
            .SetOrder(OpenIddictValidationAspNetCoreHandlers.ExtractAccessTokenFromAuthorizationHeader.Descriptor.Order + 1))
        .AddEventHandler<ValidateTokenContext>(static builder => builder
            .AddFilter<OpenIddictValidationHandlerFilters.RequireTokenProofOfPossessionValidationEnabled>()
            .UseScopedHandler<CheckBinding>()
            .SetOrder(OpenIddictValidationHandlers.Protection.ValidateProofOfPossession.Descriptor.Order))
        .AddEventHandler<ProcessChallengeContext>(static builder => builder
            .UseSingletonHandler<DPoPChallenge>()
            .SetOrder(OpenIddictValidationAspNetCoreHandlers.AttachWwwAuthenticateHeader<ProcessChallengeContext>.Descriptor.Order + 1));

    /// <summary>A refused DPoP request, or a refused bound token, gets a DPoP challenge (RFC 9449 7.1).</summary>
    internal sealed class DPoPChallenge : IOpenIddictValidationHandler<ProcessChallengeContext>
    {
        public ValueTask HandleAsync(ProcessChallengeContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            var properties = context.Transaction.Properties;
            if ((properties.ContainsKey(SchemeProperty) || properties.ContainsKey(BoundProperty) || context.Response.Error == DPoPProofs.InvalidProof)
                && context.Transaction.GetHttpRequest()?.HttpContext.Response is { } response)
            {
                DPoP.Challenge(response, context.Response.Error);
            }
            return ValueTask.CompletedTask;
        }
    }

    internal sealed class ReadScheme : IOpenIddictValidationHandler<ProcessAuthenticationContext>
    {
        public ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            var header = context.Transaction.GetHttpRequest()?.Headers.Authorization.ToString();
            if (string.IsNullOrEmpty(context.AccessToken) && header is not null && header.StartsWith(DPoPProofs.Scheme + " ", StringComparison.OrdinalIgnoreCase))
            {
                context.AccessToken = header[(DPoPProofs.Scheme.Length + 1)..].Trim();
                context.Transaction.Properties[SchemeProperty] = true;
            }
            return ValueTask.CompletedTask;
        }
    }

    internal sealed class CheckBinding(DPoPRequestProofs proofs, IOptions<TokenOptions> tokens) : IOpenIddictValidationHandler<ValidateTokenContext>
    {
        private readonly OpenIddictValidationHandlers.Protection.ValidateProofOfPossession inner = new();

        public async ValueTask HandleAsync(ValidateTokenContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            var scheme = context.Transaction.Properties.TryGetValue(SchemeProperty, out var value) && value is true;
            if (DPoP.BoundThumbprint(context.Principal?.GetClaim("cnf")) is not { } jkt)
            {
                if (scheme)
                {
                    context.Reject(OpenIddictConstants.Errors.InvalidToken, "The DPoP scheme is for DPoP-bound access tokens.");
                    return;
                }
                await inner.HandleAsync(context);
                return;
            }
            context.Transaction.Properties[BoundProperty] = true;
            if (!scheme || context.Transaction.GetHttpRequest() is not { } request || context.Token is null)
            {
                context.Reject(OpenIddictConstants.Errors.InvalidToken, "This access token is DPoP-bound: send it with the DPoP scheme and a proof.");
                return;
            }
            if (IssuerBaseUri.RequestUri(request, tokens.Value.Issuer) is not { } url)
            {
                context.Reject(DPoPProofs.InvalidProof, "The request's URL cannot be compared with the DPoP proof's.");
                return;
            }
            var (proof, error, problem) = await proofs.CheckAsync(request, url, context.Token, askNonce: false, context.CancellationToken);
            if (proof is null)
            {
                context.Reject(error!, problem!);
            }
            else if (!DPoP.SameThumbprint(proof.Thumbprint, jkt))
            {
                context.Reject(DPoPProofs.InvalidProof, "The DPoP proof is signed by another key than the one the token is bound to.");
            }
        }
    }
}
