using IdentityServer.BackchannelLogout;
using IdentityServer.Observability;
using IdentityServer.StepUp;
using OpenIddict.Server;

namespace IdentityServer.Authorization;

/// <summary>
/// Every handler this server adds to OpenIddict's event pipeline, in one list, grouped by where in a
/// request it acts. Each descriptor takes its order relative to one of OpenIddict's own handlers,
/// or, where it must come before or after all of them, from <see cref="HandlerOrder"/>.
/// </summary>
internal static class ServerEventHandlers
{
    /// <summary>OpenIddict's own handlers that a handler in <see cref="All"/> takes the place of.</summary>
    public static IEnumerable<OpenIddictServerHandlerDescriptor> Replaced => [PushedAuthorization.Replaced, ClientAssertions.Replaced, DPoP.Replaced];

    public static IEnumerable<OpenIddictServerHandlerDescriptor> All(Uri? issuer) =>
    [
        // Reading the request: the configured issuer as base URI; strict parameters (RFC 6749 3.1, 3.2,
        // OpenID Connect Core 3.1.2.1).
        .. issuer is null ? [] : new[] { IssuerBaseUri.Descriptor(issuer) },
        .. RepeatedParameterCheck.Descriptors,
        .. MaxAgeParameterCheck.Descriptors,
        .. UserInfoRequestPolicy.Descriptors,
        UserCodes.Descriptor,

        // Who the client is: a signed client assertion is invalid_client when refused, and used once.
        .. ClientAssertions.Descriptors,

        // Proof of possession: DPoP proofs checked and used once, tokens bound to their key (RFC 9449).
        .. DPoP.Descriptors,

        // Who may do what: no disabled client; pushed requests from any client allowed the authorization endpoint;
        // client credentials without user scopes, introspection and revocation policy.
        DisabledClients.Descriptor,
        PushedAuthorization.Descriptor,
        ClientCredentialsScopePolicy.Descriptor,
        .. IntrospectionPolicy.Descriptors,
        .. RevocationPolicy.Descriptors,

        // Issuing tokens: the client's own lifetimes; the signature per token type; one commit per token response; reuse detection on a second use.
        ClientTokenLifetimes.Descriptor,
        .. TokenSigningCredentials.Descriptors,
        .. TokenWriteBatch.Descriptors,
        .. ReuseDetectionHandler.Descriptors,

        // Answering: authorization errors back to the client, RFC error codes, metrics, audit, discovery.
        .. AuthorizationErrorRedirect.Descriptors,
        .. ErrorCorrectionHandler.Descriptors,
        TokenMetricsHandler.Descriptor,
        .. RevocationAuditHandler.Descriptors,
        BackchannelLogoutDiscoveryHandler.Descriptor,
        AcrDiscoveryHandler.Descriptor,
    ];
}

/// <summary>
/// Named bounds for handlers that must run before or after all of OpenIddict's own handlers of an
/// event. OpenIddict's run from <see cref="OpenIddictFirst"/> (a couple of its ASP.NET Core handlers
/// from <c>int.MinValue + 50_000</c>) to <see cref="OpenIddictLast"/>.
/// </summary>
internal static class HandlerOrder
{
    public const int OpenIddictFirst = int.MinValue + 100_000;

    public const int OpenIddictLast = int.MaxValue - 100_000;

    /// <summary>ProcessError: unwritten token rows are dropped before any handler that saves.</summary>
    public const int DiscardUnwrittenTokens = OpenIddictFirst - 90_000;

    /// <summary>Apply*Response: error codes corrected before OpenIddict writes the response.</summary>
    public const int CorrectErrorCodes = OpenIddictFirst - 60_000;

    /// <summary>ProcessError: reuse detection, after the discard and before OpenIddict's own error handling.</summary>
    public const int DetectReuse = OpenIddictFirst - 50_000;

    /// <summary>ProcessError: an invalid request_uri named as such, before OpenIddict copies the error into the response.</summary>
    public const int CorrectRequestUriError = OpenIddictFirst - 40_000;

    /// <summary>ProcessSignIn: the token write batch opens with OpenIddict's first sign-in handler.</summary>
    public const int BeginTokenWriteBatch = OpenIddictFirst;

    /// <summary>ApplyTokenResponse: tokens counted before OpenIddict writes the response (which ends the event).</summary>
    public const int CountTokens = OpenIddictFirst;

    /// <summary>
    /// After OpenIddict's own handlers of most events (the revocation is done). Not of discovery: OpenIddict's
    /// discovery handlers start at this very order and go up, so a handler that reads what they attach orders
    /// itself after the one it reads.
    /// </summary>
    public const int AfterOpenIddict = OpenIddictLast;
}
