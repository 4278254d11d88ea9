using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// Client assertions (<c>private_key_jwt</c>, RFC 7523 2.2, OpenID Connect Core 9), checked by OpenIddict
/// against the client's registered keys, with two additions:
/// <list type="bullet">
/// <item>An assertion OpenIddict refuses is <c>invalid_client</c> (RFC 6749 5.2) whatever the cause;
/// OpenIddict answers an assertion for another audience with <c>invalid_token</c>.</item>
/// <item>An assertion is used once (OpenID Connect Core 9: "these tokens MUST only be used once"): its
/// <c>jti</c> is required and remembered until the assertion expires, as a row of the token table whose
/// unique reference id is a hash of the client id and the <c>jti</c>. Two requests with one assertion,
/// on one node or two, cannot both insert it: the second is refused. The row stays valid until the
/// assertion could no longer be accepted (its expiry plus OpenIddict's clock skew) and is pruned with the
/// other expired tokens; an assertion must expire within <see cref="MaxLifetime"/> (an hour), which
/// bounds the rows kept. Each assertion costs one insert.</item>
/// </list>
/// </summary>
internal static partial class ClientAssertions
{
    /// <summary>The token type of a remembered assertion (never issued, never accepted as a token).</summary>
    public const string UsedAssertionType = "used_client_assertion";

    /// <summary>The clock skew OpenIddict allows when it checks an assertion's expiry.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>How far ahead an assertion's expiry may be.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(1);

    /// <summary>OpenIddict's assertion check, which <see cref="CheckDescriptor"/> wraps.</summary>
    public static OpenIddictServerHandlerDescriptor Replaced => OpenIddictServerHandlers.ValidateClientAssertion.Descriptor;

    public static OpenIddictServerHandlerDescriptor CheckDescriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireClientAssertionValidated>()
            .UseScopedHandler<CheckAssertion>()
            .SetOrder(Replaced.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public static OpenIddictServerHandlerDescriptor OnceDescriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireClientAssertionPrincipal>()
            .UseScopedHandler<UseOnce>()
            // Once OpenIddict has checked the assertion (signature, issuer, audience, expiry) and the client:
            // only a genuine assertion of this client is remembered (after DisabledClients). After the DPoP
            // proof's check too: a request refused for the proof's nonce (RFC 9449 8) is retried with the same
            // body, and its assertion must not be spent by the refusal.
            .SetOrder(OpenIddictServerHandlers.ValidateClientSecret.Descriptor.Order + 4)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public static OpenIddictServerHandlerDescriptor DiscoveryDescriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
            .UseSingletonHandler<ListAlgorithms>()
            // Once OpenIddict has listed each endpoint's methods (its discovery handlers run from OpenIddictLast up).
            .SetOrder(OpenIddictServerHandlers.Discovery.AttachClientAuthenticationMethods.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors => [CheckDescriptor, OnceDescriptor, DiscoveryDescriptor];

    /// <summary>
    /// The algorithms an assertion may be signed with: a client's keys are RSA (2,048 bits or more) or EC
    /// (P-256, P-384, P-521), so the asymmetric ones only, never "none" nor a MAC.
    /// </summary>
    public static IReadOnlyList<string> Algorithms => DPoPProofs.Algorithms;

    /// <summary>
    /// RFC 8414 2: an endpoint whose authentication methods include <c>private_key_jwt</c> must list the algorithms
    /// (<c>..._auth_signing_alg_values_supported</c>); OpenIddict lists the methods only.
    /// </summary>
    internal sealed class ListAlgorithms : IOpenIddictServerHandler<HandleConfigurationRequestContext>
    {
        public ValueTask HandleAsync(HandleConfigurationRequestContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            foreach (var (methods, metadata) in new[]
            {
                (context.TokenEndpointAuthenticationMethods, "token_endpoint_auth_signing_alg_values_supported"),
                (context.IntrospectionEndpointAuthenticationMethods, "introspection_endpoint_auth_signing_alg_values_supported"),
                (context.RevocationEndpointAuthenticationMethods, "revocation_endpoint_auth_signing_alg_values_supported"),
            })
            {
                if (methods.Contains(ClientAuthenticationMethods.PrivateKeyJwt))
                {
                    context.Metadata[metadata] = new System.Text.Json.Nodes.JsonArray([.. Algorithms.Select(static a => System.Text.Json.Nodes.JsonValue.Create(a))]);
                }
            }
            return ValueTask.CompletedTask;
        }
    }

    [LoggerMessage(EventId = 4120, Level = LogLevel.Information, Message = "Client assertion of {ClientId} refused: used already.")]
    private static partial void LogReplay(ILogger logger, string? clientId);

    internal sealed class CheckAssertion(IOpenIddictServerDispatcher dispatcher, IOpenIddictApplicationManager applications, RemoteKeySets remote)
        : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        private readonly OpenIddictServerHandlers.ValidateClientAssertion inner = new(dispatcher);

        /// <summary>
        /// A client registered with a jwks_uri: its key set is fetched here, asynchronously, and again when it
        /// lacks the assertion's kid (a rotation); OpenIddict's key lookup, which waits synchronously, then reads the cache.
        /// </summary>
        private async Task PrefetchKeysAsync(string assertion, CancellationToken cancellationToken)
        {
            Microsoft.IdentityModel.JsonWebTokens.JsonWebToken token;
            try
            {
                token = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(assertion);
            }
            catch (ArgumentException)
            {
                return;
            }
            if (token.Issuer is { Length: > 0 and <= 200 } clientId
                && await applications.FindByClientIdAsync(clientId, cancellationToken) is { } application
                && RemoteKeySets.UriOf(await applications.GetPropertiesAsync(application, cancellationToken)) is { } uri)
            {
                await remote.GetAsync(clientId, uri, string.IsNullOrEmpty(token.Kid) ? null : token.Kid, cancellationToken);
            }
        }

        public async ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (string.IsNullOrEmpty(context.ClientAssertion))
            {
                return;
            }
            await PrefetchKeysAsync(context.ClientAssertion, context.CancellationToken);
            await inner.HandleAsync(context);
            if (context.IsRejected && context.Error == Errors.InvalidToken)
            {
                context.Reject(Errors.InvalidClient, context.ErrorDescription, context.ErrorUri);
            }
        }
    }

    internal sealed class UseOnce(OneTimeUse once, TimeProvider clock, ILogger<UseOnce> logger)
        : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        public async ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            var principal = context.ClientAssertionPrincipal!;
            if (principal.GetClaim(Claims.JwtId) is not { Length: > 0 and <= 256 } jti || principal.GetExpirationDate() is not { } expires)
            {
                context.Reject(Errors.InvalidClient, "The client assertion must have a 'jti' (of at most 256 characters) and an 'exp' claim.");
                return;
            }
            // Remembered rows are pruned after Pruning:MinimumAge (days): an assertion must not outlive that.
            if (expires > clock.GetUtcNow() + MaxLifetime)
            {
                context.Reject(Errors.InvalidClient, "The client assertion must expire within an hour.");
                return;
            }
            // Valid until the assertion could no longer be accepted (OpenIddict allows 5 minutes of clock skew).
            if (!await once.TryUseAsync(OneTimeUse.Reference(null, context.ClientId!, jti), UsedAssertionType, expires + ClockSkew, context.CancellationToken))
            {
                LogReplay(logger, context.ClientId);
                context.Reject(Errors.InvalidClient, "The client assertion has been used already.");
            }
        }
    }
}
