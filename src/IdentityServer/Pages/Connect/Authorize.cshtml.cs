using System.Globalization;
using System.Security.Claims;
using IdentityServer.Authorization;
using IdentityServer.Data;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Primitives;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Pages.Connect;

/// <summary>
/// The authorization endpoint. OpenIddict has validated the request (client, exact redirect_uri,
/// PKCE, scopes); this page decides who the user is (sign-in, prompt, max_age) and whether they
/// agreed (consent), then hands the principal back to OpenIddict, which redirects to the client.
/// </summary>
public sealed class AuthorizeModel(
    IOpenIddictApplicationManager applications,
    IOpenIddictAuthorizationManager authorizations,
    IOpenIddictScopeManager scopeManager,
    UserManager<ApplicationUser> users,
    PrincipalFactory principals,
    TimeProvider clock,
    ILogger<AuthorizeModel> logger) : PageModel
{
    private const string ConsentField = "consent";

    public ProtocolError? Problem { get; private set; }

    public string? ApplicationName { get; private set; }

    public IReadOnlyList<(string Name, string Description)> Scopes { get; private set; } = [];

    public IReadOnlyList<KeyValuePair<string, string?>> RequestParameters { get; private set; } = [];

    public Task<IActionResult> OnGetAsync() => HandleAsync(decision: null);

    // Antiforgery is validated for this POST: only our own consent form can submit a decision.
    public Task<IActionResult> OnPostAsync([FromForm(Name = ConsentField)] string? consent) => HandleAsync(consent);

    private async Task<IActionResult> HandleAsync(string? decision)
    {
        // Errors OpenIddict must not redirect (unknown client, unregistered redirect_uri, ...).
        if (HttpContext.GetOpenIddictServerResponse() is { Error: not null } failure)
        {
            Problem = new(failure.Error, failure.ErrorDescription);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        var request = HttpContext.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenID Connect request cannot be retrieved.");
        var cancellationToken = HttpContext.RequestAborted;

        var cookie = await HttpContext.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        var user = cookie.Succeeded ? await users.GetUserAsync(cookie.Principal) : null;
        var authTime = ReadAuthenticationTime(cookie.Principal);

        var mustAuthenticate = user is null
            || authTime is null
            || (request.HasPromptValue(PromptValues.Login) && decision is null)
            || (request.MaxAge is { } maxAge && (maxAge == 0 || clock.GetUtcNow().ToUnixTimeSeconds() - authTime > maxAge));

        if (mustAuthenticate)
        {
            if (request.HasPromptValue(PromptValues.None))
            {
                return Forbid(Errors.LoginRequired, "The user is not signed in.");
            }

            // After signing in, come back without prompt=login and max_age so that the fresh sign-in
            // satisfies them instead of looping; the client still reads auth_time in the ID token.
            return Challenge(
                new AuthenticationProperties { RedirectUri = ReturnUrlAfterSignIn() },
                IdentityConstants.ApplicationScheme);
        }

        var application = await applications.FindByClientIdAsync(request.ClientId!, cancellationToken)
            ?? throw new InvalidOperationException("The client application cannot be found.");
        var applicationId = await applications.GetIdAsync(application, cancellationToken);
        var subject = await users.GetUserIdAsync(user!);
        var scopes = request.GetScopes();

        if (decision == "deny")
        {
            logger.LogInformation("Security event: account {UserId} denied consent to {ClientId}.", subject, request.ClientId);
            return Forbid(Errors.AccessDenied, "The user denied the request.");
        }

        // A consent the user gave earlier for at least these scopes.
        var consents = await authorizations.FindAsync(
            subject: subject, client: applicationId, status: Statuses.Valid, type: AuthorizationTypes.Permanent,
            scopes: scopes, cancellationToken: cancellationToken).ToListAsync(cancellationToken);

        var consentType = await applications.GetConsentTypeAsync(application, cancellationToken);
        var needsConsent = decision != "accept"
            && (request.HasPromptValue(PromptValues.Consent)
                || (consentType != ConsentTypes.Implicit && consents.Count == 0));

        if (needsConsent)
        {
            if (request.HasPromptValue(PromptValues.None))
            {
                return Forbid(Errors.ConsentRequired, "The user has not consented to this application.");
            }
            ApplicationName = await applications.GetLocalizedDisplayNameAsync(application, cancellationToken) ?? request.ClientId;
            Scopes = await DescribeScopesAsync(scopes, cancellationToken);
            RequestParameters = CurrentParameters();
            return Page();
        }

        if (decision == "accept" && consents.Count == 0 && consentType != ConsentTypes.Implicit)
        {
            // Remember the consent. Tokens are not attached to it: every grant gets its own
            // authorization, so reuse detection or revocation of one grant leaves the others alone.
            await authorizations.CreateAsync(
                principal: new ClaimsPrincipal(new ClaimsIdentity([new Claim(Claims.Subject, subject)], "consent")),
                subject: subject, client: applicationId!, type: AuthorizationTypes.Permanent, scopes: scopes,
                cancellationToken: cancellationToken);
            logger.LogInformation("Security event: account {UserId} granted consent to {ClientId} for {Scopes}.", subject, request.ClientId, string.Join(' ', scopes));
        }

        var principal = await principals.CreateForUserAsync(user!, scopes, authTime, cancellationToken);
        return SignIn(principal, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private ForbidResult Forbid(string error, string description) => Forbid(
        new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }),
        OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);

    private static long? ReadAuthenticationTime(ClaimsPrincipal? principal) =>
        long.TryParse(principal?.FindFirst(Claims.AuthenticationTime)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    /// <summary>The request's own parameters (query or form), without our form fields.</summary>
    private List<KeyValuePair<string, string?>> CurrentParameters()
    {
        IEnumerable<KeyValuePair<string, StringValues>> source = Request.HasFormContentType ? Request.Form : Request.Query;
        return [.. source
            .Where(static p => p.Key is not (ConsentField or "__RequestVerificationToken"))
            .SelectMany(static p => p.Value.Select(v => new KeyValuePair<string, string?>(p.Key, v)))];
    }

    private string ReturnUrlAfterSignIn()
    {
        var parameters = CurrentParameters()
            .Where(static p => p.Key != Parameters.MaxAge)
            .Select(p => p.Key == Parameters.Prompt
                ? new KeyValuePair<string, string?>(p.Key, string.Join(' ', (p.Value ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(v => v != PromptValues.Login)))
                : p)
            .Where(static p => !(p.Key == Parameters.Prompt && string.IsNullOrEmpty(p.Value)));
        return Request.PathBase + Request.Path + QueryString.Create(parameters);
    }

    private async Task<IReadOnlyList<(string, string)>> DescribeScopesAsync(IEnumerable<string> scopes, CancellationToken cancellationToken)
    {
        var described = new List<(string, string)>();
        foreach (var scope in scopes)
        {
            var description = scope switch
            {
                OpenIddictConstants.Scopes.OpenId => "Sign you in",
                OpenIddictConstants.Scopes.Profile => "See your name and username",
                OpenIddictConstants.Scopes.Email => "See your email address",
                OpenIddictConstants.Scopes.OfflineAccess => "Stay signed in when you are not using it",
                _ => await scopeManager.FindByNameAsync(scope, cancellationToken) is { } entity
                    ? await scopeManager.GetLocalizedDisplayNameAsync(entity, cancellationToken) ?? scope
                    : scope,
            };
            described.Add((scope, description));
        }
        return described;
    }
}
