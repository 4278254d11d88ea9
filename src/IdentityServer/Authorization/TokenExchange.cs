using System.Collections.Immutable;
using System.Security.Claims;
using System.Text.Json.Nodes;
using IdentityServer.Data;
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
/// Token exchange (RFC 8693): a service that received a user's (or a machine's) access token exchanges it
/// for a narrower one for a downstream API. OpenIddict has checked the request, the client's permissions
/// (the grant, each requested scope, each <c>audience</c> through its <c>aud:</c> permission) and the
/// subject token (signature, expiry, revocation, and that it was issued to the client or for it as an
/// audience). This adds the policy:
/// <list type="bullet">
/// <item>Scopes never wider: each requested scope must be in the subject token; none asked, the subject's.
/// No refresh token comes out of an exchange (<c>offline_access</c> is dropped).</item>
/// <item>The audience is what the client asked for (<c>audience</c>, permitted per client) or else the
/// resources of the scopes; the token lives no longer than the subject token, nor than its session.</item>
/// <item>Delegation: the token says who acts (<c>act</c>, RFC 8693 4.1): the exchanging client, with the
/// subject token's own <c>act</c> nested inside, so a chain of services stays visible.</item>
/// <item>The session still owns the result: the token belongs to the subject token's authorization, so
/// ending the session (or revoking the grant) revokes it; a user token of an ended session, a locked or
/// deleted account cannot be exchanged.</item>
/// </list>
/// </summary>
internal sealed class TokenExchange(
    UserManager<ApplicationUser> users,
    SignInManager<ApplicationUser> signIn,
    PrincipalFactory principals,
    SessionService sessions,
    IOpenIddictScopeManager scopeManager,
    IOpenIddictApplicationManager applications,
    IOptions<TokenOptions> tokenOptions,
    TimeProvider clock)
{
    /// <summary>The actor claim (RFC 8693 4.1).</summary>
    public const string ActClaim = "act";

    public async Task<IResult> ExchangeAsync(HttpContext context, OpenIddictRequest request, CancellationToken cancellationToken)
    {
        var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        if (result.Principal is not { } subject || subject.GetClaim(Claims.Subject) is not { } subjectId)
        {
            return Forbid(Errors.InvalidGrant, "The subject token is not valid.");
        }

        // Only the service a token was issued for (its audience) or the client it was issued to may exchange
        // it. OpenIddict checks this only when the token names both; a token for no API names neither.
        if (!subject.HasAudience(request.ClientId!) && !subject.HasPresenter(request.ClientId!) && subject.GetClaim(Claims.ClientId) != request.ClientId)
        {
            return Forbid(Errors.InvalidGrant, "The subject token was not issued to this client or for it.");
        }

        var granted = subject.GetScopes();
        var requested = request.GetScopes();
        if (requested.FirstOrDefault(scope => !granted.Contains(scope)) is { } wider)
        {
            return Forbid(Errors.InvalidScope, $"The scope '{wider}' is not in the subject token: an exchanged token is never wider.");
        }
        // None asked: the subject token's scopes this client may use (OpenIddict checks only the scopes a request names).
        var client = await applications.FindByClientIdAsync(request.ClientId!, cancellationToken);
        var scopes = requested;
        if (requested.IsEmpty)
        {
            var permitted = new List<string>();
            foreach (var scope in granted)
            {
                if (scope == Scopes.OpenId || await applications.HasPermissionAsync(client!, Permissions.Prefixes.Scope + scope, cancellationToken))
                {
                    permitted.Add(scope);
                }
            }
            scopes = [.. permitted];
        }
        scopes = scopes.Remove(Scopes.OfflineAccess);

        ClaimsPrincipal principal;
        var sessionId = subject.GetClaim(SessionService.SessionIdClaim);
        var session = sessionId is null ? null : await sessions.FindActiveAsync(sessionId, cancellationToken);
        // A machine's token (client credentials, or exchanged from one): its subject is a client, and it has no session.
        if (sessionId is null && await applications.FindByClientIdAsync(subjectId, cancellationToken) is not null)
        {
            // The machine stays the subject.
            principal = await principals.CreateForClientAsync(subjectId, scopes, cancellationToken);
        }
        else
        {
            var user = await users.FindByIdFastAsync(subjectId, cancellationToken);
            if (user is null || !await TokenEndpoint.CanStillUseGrantsAsync(signIn, user)
                || (sessionId is not null && (session is null || session.UserId != user.Id)))
            {
                return Forbid(Errors.InvalidGrant, "The subject token's account or session is no longer active.");
            }
            // Access tokens carry no auth_time, amr or acr: the exchanged token has none either.
            principal = await principals.CreateForUserAsync(user, scopes, authenticationTime: null, [], sessionId, authenticationContextClass: null, cancellationToken);
        }

        // The audiences asked for (OpenIddict has checked each against the client's aud: permissions), or else the
        // resources of the scopes that the client may ask for: its TokenExchangeAudiences bound every exchange.
        var audiences = request.GetAudiences();
        if (audiences.IsEmpty)
        {
            var permitted = new List<string>();
            await foreach (var resource in scopeManager.ListResourcesAsync(scopes, cancellationToken))
            {
                if (await applications.HasPermissionAsync(client!, Permissions.Prefixes.Audience + resource, cancellationToken))
                {
                    permitted.Add(resource);
                }
            }
            audiences = [.. permitted];
            if (audiences.IsEmpty)
            {
                return Forbid(Errors.InvalidTarget, "Name the downstream API with 'audience': none of the token's resources is one this client may ask for.");
            }
        }
        principal.SetResources(audiences);
        // The token belongs to the subject token's grant: revoking that grant (ending its session) revokes it.
        if (subject.GetAuthorizationId() is { } authorizationId)
        {
            principal.SetAuthorizationId(authorizationId);
        }

        var act = new JsonObject { [Claims.Subject] = request.ClientId };
        if (subject.GetClaim(ActClaim) is { Length: > 0 } previous && JsonNode.Parse(previous) is JsonObject earlier)
        {
            act[ActClaim] = earlier;
        }
        principal.SetClaim(ActClaim, act);
        foreach (var claim in principal.Claims.Where(static c => c.Type == ActClaim))
        {
            claim.SetDestinations(Destinations.AccessToken);
        }

        var remaining = (subject.GetExpirationDate() ?? clock.GetUtcNow()) - clock.GetUtcNow();
        if (session is not null)
        {
            remaining = Min(remaining, session.ExpiresAt - clock.GetUtcNow());
        }
        principal.SetAccessTokenLifetime(Min(tokenOptions.Value.AccessTokenLifetime, remaining));
        return Results.SignIn(principal, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static TimeSpan Min(TimeSpan first, TimeSpan second) => TokenEndpoint.Min(first, second);

    private static IResult Forbid(string error, string description) => TokenEndpoint.Forbid(error, description);
}
