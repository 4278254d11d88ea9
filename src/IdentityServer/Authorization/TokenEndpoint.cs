using System.Globalization;
using System.Security.Claims;
using IdentityServer.Data;
using IdentityServer.RateLimiting;
using IdentityServer.Sessions;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Authorization;

/// <summary>
/// The token endpoint. OpenIddict has already authenticated the client, validated the grant
/// (code + PKCE, refresh token rotation and reuse) and the scopes; this decides who the token is for.
/// </summary>
internal static class TokenEndpoint
{
    public static void MapTokenEndpoint(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("connect/token", ExchangeAsync).ExcludeFromDescription();

    private static async Task<IResult> ExchangeAsync(
        HttpContext context,
        RefreshTokenRotation rotation,
        UserManager<ApplicationUser> users,
        SignInManager<ApplicationUser> signIn,
        PrincipalFactory principals,
        SessionService sessions,
        IOptions<TokenOptions> tokenOptions,
        RateLimiters limits,
        TokenExchange exchange,
        TimeProvider clock)
    {
        var request = context.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenID Connect request cannot be retrieved.");
        var cancellationToken = context.RequestAborted;

        // Counted here, once OpenIddict has authenticated the client (or, for a public client,
        // checked that the code, refresh token or device code was issued to it): a request that only
        // names a client, with a wrong secret, cannot spend that client's budget. Requests OpenIddict
        // refuses, such as device-code polls before approval, do not count.
        using (var lease = limits.AcquireToken(request.ClientId ?? string.Empty))
        {
            if (!lease.IsAcquired)
            {
                return RateLimitResponses.OAuthErrorResult(lease);
            }
        }

        if (request.IsClientCredentialsGrantType())
        {
            var principal = await principals.CreateForClientAsync(request.ClientId!, request.GetScopes(), cancellationToken);
            return Results.SignIn(principal, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        if (request.IsTokenExchangeGrantType())
        {
            return await exchange.ExchangeAsync(context, request, cancellationToken);
        }

        if (request.IsAuthorizationCodeGrantType() || request.IsRefreshTokenGrantType() || request.IsDeviceCodeGrantType())
        {
            // The principal stored in the code, refresh token or device code.
            var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            var stored = result.Principal;
            var user = stored?.GetClaim(Claims.Subject) is { } id ? await users.FindByIdFastAsync(id, cancellationToken) : null;

            // The account may have been deleted, locked or disabled since the grant was issued, or its
            // password changed (which changes the security stamp and ends every grant issued before).
            if (stored is null || user is null || !await CanStillUseGrantsAsync(signIn, user)
                || stored.GetClaim(PrincipalFactory.SecurityStampClaim) != await users.GetSecurityStampAsync(user))
            {
                return Forbid(Errors.InvalidGrant, "The token is no longer valid.");
            }

            // The grant belongs to a session (a sign-in in a browser): it works only while that
            // session is active. The check reads a short cache, not the database, on most requests.
            var sessionId = stored.GetClaim(SessionService.SessionIdClaim);
            var session = sessionId is null ? null : await sessions.FindActiveAsync(sessionId, cancellationToken);
            if (sessionId is not null && (session is null || session.UserId != user.Id))
            {
                return Forbid(Errors.InvalidGrant, "The session this grant belongs to has ended.");
            }

            // Of simultaneous uses of one refresh token exactly one gets new tokens, and a replay
            // inside the reuse leeway continues the chain rather than forking it.
            if (request.IsRefreshTokenGrantType() && !await rotation.TryRedeemAsync(stored, cancellationToken))
            {
                return Forbid(Errors.InvalidGrant, "The specified refresh token has already been redeemed.");
            }

            long? authTime = long.TryParse(stored.GetClaim(Claims.AuthenticationTime), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                ? value
                : null;

            // Claims are rebuilt from the account so that a refresh picks up profile changes.
            var principal = await principals.CreateForUserAsync(
                user, stored.GetScopes(), authTime, stored.GetClaims(Claims.AuthenticationMethodReference), sessionId,
                stored.GetClaim(Claims.AuthenticationContextReference), cancellationToken);
            if (session is not null)
            {
                // Using the grant is activity (it pushes the idle timeout back). No token outlives the
                // session's absolute lifetime; the idle timeout is enforced by the check above.
                await sessions.TouchAsync(session, cancellationToken);
                var remaining = session.ExpiresAt - clock.GetUtcNow();
                var options = tokenOptions.Value;
                principal.SetAccessTokenLifetime(Min(options.AccessTokenLifetime, remaining))
                    .SetIdentityTokenLifetime(Min(options.IdentityTokenLifetime, remaining))
                    .SetRefreshTokenLifetime(Min(options.RefreshTokenLifetime, remaining));
            }
            return Results.SignIn(principal, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        return Forbid(Errors.UnsupportedGrantType, "The specified grant type is not supported.");
    }

    /// <summary>
    /// Whether an account may still use what it was granted: it may sign in. Only an administrator's
    /// lock (no end date) stops grants: the temporary lockout after failed sign-ins must not let anyone who
    /// knows a user name break that user's apps.
    /// </summary>
    internal static async Task<bool> CanStillUseGrantsAsync(SignInManager<ApplicationUser> signIn, ApplicationUser user) =>
        await signIn.CanSignInAsync(user) && user.LockoutEnd != DateTimeOffset.MaxValue;

    /// <summary>The shorter of two lifetimes, and never under a second.</summary>
    internal static TimeSpan Min(TimeSpan first, TimeSpan second) =>
        (first < second ? first : second) is var least && least > TimeSpan.FromSeconds(1) ? least : TimeSpan.FromSeconds(1);

    internal static IResult Forbid(string error, string description) => Results.Forbid(
        authenticationSchemes: [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme],
        properties: ProtocolErrors.Properties(error, description));
}
