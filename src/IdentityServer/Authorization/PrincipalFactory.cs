using System.Collections.Immutable;
using System.Globalization;
using System.Security.Claims;
using IdentityServer.Data;
using IdentityServer.Sessions;
using IdentityServer.StepUp;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Authorization;

/// <summary>
/// The one place that turns an account or a client into the claims OpenIddict puts in tokens,
/// and the one place that decides which token each claim goes to.
/// </summary>
public sealed class PrincipalFactory(
    UserManager<ApplicationUser> userManager,
    IOpenIddictScopeManager scopeManager)
{
    /// <summary>
    /// The account's security stamp when the grant was issued. It has no destination, so it stays in
    /// the server-only tokens (codes, refresh tokens); a refresh compares it with the current stamp,
    /// which ASP.NET Core Identity changes on a password change or reset.
    /// </summary>
    public const string SecurityStampClaim = "idp_stamp";

    /// <summary>Claims released with the <c>profile</c> scope (OpenID Connect Core 5.4).</summary>
    public static readonly IReadOnlySet<string> ProfileClaims = new HashSet<string>(StringComparer.Ordinal)
    {
        Claims.Name, Claims.PreferredUsername, Claims.GivenName, Claims.FamilyName, Claims.MiddleName,
        Claims.Nickname, Claims.Profile, Claims.Picture, Claims.Website, Claims.Gender, Claims.Birthdate,
        Claims.Zoneinfo, Claims.Locale, Claims.UpdatedAt,
    };

    /// <param name="user">The account.</param>
    /// <param name="scopes">The scopes granted.</param>
    /// <param name="authenticationTime">When the user signed in (<c>auth_time</c>), if known.</param>
    /// <param name="authenticationMethods">How the user signed in (<c>amr</c>, RFC 8176), as the session's cookie or the grant recorded it.</param>
    /// <param name="sessionId">The session the grant belongs to.</param>
    /// <param name="authenticationContextClass">
    /// The <c>acr</c>: the level the request asked for and the session reached; null for the level
    /// the methods reach (<see cref="AuthenticationLevels.Of"/>).
    /// </param>
    /// <param name="cancellationToken">Cancels the lookups.</param>
    public async Task<ClaimsPrincipal> CreateForUserAsync(
        ApplicationUser user, ImmutableArray<string> scopes, long? authenticationTime, IEnumerable<string> authenticationMethods, string? sessionId,
        string? authenticationContextClass, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(authenticationMethods);
        var identity = new ClaimsIdentity(
            authenticationType: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme,
            nameType: Claims.Name,
            roleType: Claims.Role);

        identity.SetClaim(Claims.Subject, user.Id)
            .SetClaim(Claims.PreferredUsername, user.UserName)
            .SetClaim(Claims.Email, user.Email)
            .SetClaim(Claims.EmailVerified, user.EmailConfirmed);

        var database = userManager.Database();
        foreach (var claim in await CompiledQueries.UserClaims(database, user.Id).ToListAsync(cancellationToken))
        {
            // Seeded profile claims (name, given_name, ...) are stored as Identity user claims.
            if (claim.Type is { } type && identity.FindFirst(type) is null)
            {
                identity.AddClaim(new Claim(type, claim.Value ?? string.Empty));
            }
        }

        identity.SetClaims(Claims.Role, [.. await CompiledQueries.UserRoleNames(database, user.Id).ToListAsync(cancellationToken)]);
        identity.SetClaim(SecurityStampClaim, await userManager.GetSecurityStampAsync(user));

        if (authenticationTime is { } authTime)
        {
            identity.AddClaim(new Claim(Claims.AuthenticationTime, authTime.ToString(CultureInfo.InvariantCulture), ClaimValueTypes.Integer64));
        }

        // One claim per method: OpenIddict writes them to the ID token as the array RFC 8176 asks for.
        identity.SetClaims(Claims.AuthenticationMethodReference, [.. authenticationMethods.Distinct(StringComparer.Ordinal)]);
        identity.SetClaim(Claims.AuthenticationContextReference, authenticationContextClass ?? AuthenticationLevels.Of(authenticationMethods));

        if (sessionId is not null)
        {
            identity.SetClaim(SessionService.SessionIdClaim, sessionId);
        }

        var principal = new ClaimsPrincipal(identity);
        principal.SetScopes(scopes);
        principal.SetResources(await scopeManager.ListResourcesAsync(scopes, cancellationToken).ToListAsync(cancellationToken));
        var accessTokenClaims = await AccessTokenClaims.ForScopesAsync(scopeManager, scopes, cancellationToken);
        principal.SetDestinations(claim => GetDestinations(claim, accessTokenClaims));
        return principal;
    }

    public async Task<ClaimsPrincipal> CreateForClientAsync(string clientId, ImmutableArray<string> scopes, CancellationToken cancellationToken)
    {
        var identity = new ClaimsIdentity(
            authenticationType: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme,
            nameType: Claims.Name,
            roleType: Claims.Role);

        // The client acts on its own behalf: its client_id is the subject. No user claim: there is no user.
        identity.SetClaim(Claims.Subject, clientId);

        var principal = new ClaimsPrincipal(identity);
        principal.SetScopes(scopes);
        principal.SetResources(await scopeManager.ListResourcesAsync(scopes, cancellationToken).ToListAsync(cancellationToken));
        principal.SetDestinations(static claim => GetDestinations(claim, AccessTokenClaims.None));
        return principal;
    }

    /// <summary>
    /// Decides which token carries a claim. Nothing leaves unless listed here, so a new claim type
    /// never leaks into tokens by accident.
    /// </summary>
    /// <remarks>
    /// The ID token follows OpenID Connect Core 5.4, as userinfo does: profile claims with
    /// <c>profile</c>, email claims with <c>email</c>. The access token is read by every API it is
    /// sent to, so it carries the user's <c>sub</c> (and <c>sid</c>) only, plus what a granted scope
    /// asks for in <paramref name="accessTokenClaims"/> (<see cref="AccessTokenClaims"/>); a profile
    /// or email claim needs its standard scope granted as well. <c>role</c> never goes to the ID
    /// token: no standard scope covers it, so the user never agreed to show it to the client.
    /// </remarks>
    internal static IEnumerable<string> GetDestinations(Claim claim, IReadOnlySet<string> accessTokenClaims)
    {
        var principal = claim.Subject is { } subject ? new ClaimsPrincipal(subject) : null;
        bool Has(string scope) => principal?.HasScope(scope) ?? false;
        var asked = accessTokenClaims.Contains(claim.Type);

        switch (claim.Type)
        {
            case Claims.Subject:
                yield return Destinations.AccessToken;
                yield return Destinations.IdentityToken;
                yield break;

            case Claims.AuthenticationTime or Claims.AuthenticationMethodReference or Claims.AuthenticationContextReference:
                yield return Destinations.IdentityToken;
                yield break;

            // The session the tokens belong to (OpenID Connect Back-Channel Logout 1.0, section 2.1).
            case SessionService.SessionIdClaim:
                yield return Destinations.AccessToken;
                yield return Destinations.IdentityToken;
                yield break;

            case var type when ProfileClaims.Contains(type):
                if (Has(Scopes.Profile))
                {
                    if (asked)
                    {
                        yield return Destinations.AccessToken;
                    }
                    yield return Destinations.IdentityToken;
                }
                yield break;

            case Claims.Email or Claims.EmailVerified:
                if (Has(Scopes.Email))
                {
                    if (asked)
                    {
                        yield return Destinations.AccessToken;
                    }
                    yield return Destinations.IdentityToken;
                }
                yield break;

            case Claims.Role:
                if (asked)
                {
                    yield return Destinations.AccessToken;
                }
                yield break;

            // Never copy OpenIddict's private claims or the security stamp anywhere.
            default:
                yield break;
        }
    }
}
