using IdentityServer.Localization;
using System.Globalization;
using System.Security.Claims;
using IdentityServer.Audit;
using IdentityServer.Authorization;
using IdentityServer.Data;
using IdentityServer.Sessions;
using IdentityServer.StepUp;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Antiforgery;
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
[IgnoreAntiforgeryToken] // validated by hand: only a consent decision needs it (see OnPostAsync)
public sealed class AuthorizeModel(
    IOpenIddictApplicationManager applications,
    IOpenIddictAuthorizationManager authorizations,
    IOpenIddictScopeManager scopeManager,
    UserManager<ApplicationUser> users,
    PrincipalFactory principals,
    SessionService sessions,
    AuditLog audit,
    TimeProvider clock,
    IAntiforgery antiforgery,
    ReauthenticationMarkers reauthentication,
    StepUpPolicy stepUp,
    StepUpLinks stepUpLinks,
    ILogger<AuthorizeModel> logger) : PageModel
{
    private const string ConsentField = "consent";

    /// <summary>The consent form's "Remember my decision": unticked, the app asks again next time.</summary>
    private const string RememberField = "remember";

    public ProtocolError? Problem { get; private set; }

    public string? ApplicationName { get; private set; }

    /// <summary>The application's home page, when registered (<c>ClientUri</c> in the seed), so the person can see whose app this is.</summary>
    public Uri? ApplicationUri { get; private set; }

    public IReadOnlyList<(string Name, string Description)> Scopes { get; private set; } = [];

    public IReadOnlyList<KeyValuePair<string, string?>> RequestParameters { get; private set; } = [];

    public Task<IActionResult> OnGetAsync() => HandleAsync(decision: null);

    /// <summary>
    /// Clients may send the authorization request as a POST (OpenID Connect Core 3.1.2.1): that is
    /// handled like a GET. A consent decision is accepted only from our own form, with its
    /// antiforgery token.
    /// </summary>
    public async Task<IActionResult> OnPostAsync([FromForm(Name = ConsentField)] string? consent, [FromForm(Name = RememberField)] string? remember)
    {
        if (consent is not null)
        {
            try
            {
                await antiforgery.ValidateRequestAsync(HttpContext);
            }
            catch (AntiforgeryValidationException)
            {
                Problem = new(Errors.InvalidRequest, Texts.Get("The form has expired or did not come from this site. Go back to the application and try again."), ErrorKind.Request);
                Response.StatusCode = StatusCodes.Status400BadRequest;
                return Page();
            }
        }
        return await HandleAsync(consent, remember: remember == "yes");
    }

    private async Task<IActionResult> HandleAsync(string? decision, bool remember = false)
    {
        // Errors OpenIddict could not return to the client (unknown client, unregistered or missing
        // redirect_uri, ...): every other error went back to the client's redirect_uri already
        // (see AuthorizationErrorRedirect).
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
        var user = cookie.Succeeded ? (users.GetUserId(cookie.Principal) is { } userId ? await users.FindByIdFastAsync(userId, HttpContext.RequestAborted) : null) : null;
        var authTime = ReadClaim(cookie.Principal, Claims.AuthenticationTime);
        var sessionId = cookie.Principal?.FindFirst(SessionService.SessionIdClaim)?.Value;
        var parameters = CurrentParameters();

        // OpenID Connect Core 3.1.2.1: the client expects the user its ID token names. Someone else
        // signed in here is, for a request that may not show any page, as good as nobody.
        if (request.HasPromptValue(PromptValues.None) && user is not null && !await HintNamesAsync(request, user.Id))
        {
            return Forbid(Errors.LoginRequired, "The user the id_token_hint names is not signed in.");
        }

        // prompt=login and max_age need a sign-in made for this request: one the sign-in page made
        // with this request's marker (see ReauthenticationMarkers), used up when the code is issued.
        var freshSignInRequired = request.HasPromptValue(PromptValues.Login)
            || (request.MaxAge is { } maxAge && (maxAge == 0 || authTime is null || clock.GetUtcNow().ToUnixTimeSeconds() - authTime > maxAge));
        var marker = freshSignInRequired && sessionId is not null
            ? reauthentication.Accept(ParameterValue(ReauthenticationMarkers.Parameter), parameters, cookie.Principal)
            : null;

        if (user is null || authTime is null || (freshSignInRequired && marker is null))
        {
            if (request.HasPromptValue(PromptValues.None))
            {
                return Forbid(Errors.LoginRequired, "The user is not signed in.");
            }
            return SignInAgain(parameters, freshSignInRequired);
        }

        var application = await applications.FindByClientIdAsync(request.ClientId!, cancellationToken)
            ?? throw new InvalidOperationException("The client application cannot be found.");

        // Step-up (acr_values, the client's RequireMfa): the session must reach the level asked for,
        // as its amr says. max_age and prompt=login (above) still hold as well.
        var methods = cookie.Principal!.FindAll(Claims.AuthenticationMethodReference).Select(static c => c.Value).ToList();
        var required = await stepUp.RequiredLevelAsync(application, request.GetAcrValues(), cancellationToken);
        if (required is not null && !AuthenticationLevels.Reaches(AuthenticationLevels.Of(methods), required))
        {
            // OpenID Connect Core 3.1.2.6: the user is signed in, but more is needed than a request without pages can ask.
            return request.HasPromptValue(PromptValues.None)
                ? Forbid(Errors.InteractionRequired, "The application asks for a stronger sign-in than this session has.")
                : await StepUpAsync(required, user, sessionId, request.ClientId, parameters, freshSignInRequired);
        }

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
            ApplicationUri = (await applications.GetPropertiesAsync(application, cancellationToken))
                .TryGetValue(Seeding.Seeder.ClientUriProperty, out var home) && home.ValueKind == System.Text.Json.JsonValueKind.String
                && Uri.TryCreate(home.GetString(), UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" ? uri : null;
            Scopes = await ScopeDescriptions.DescribeAsync(scopeManager, scopes, cancellationToken);
            RequestParameters = parameters;
            return Page();
        }

        // A second request with the same marker (the return URL opened again, concurrently or on
        // another node) finds it used and is sent to sign in again.
        if (marker is not null && !await reauthentication.UseAsync(sessionId!, marker, cookie.Principal!, cancellationToken))
        {
            return SignInAgain(parameters, freshSignInRequired);
        }

        if (decision == "accept" && consents.Count == 0 && consentType != ConsentTypes.Implicit)
        {
            audit.Add(SecurityEventTypes.ConsentGranted, subject, user!.UserName, sessionId, request.ClientId, detail: string.Join(' ', scopes));
        }
        if (decision == "accept" && remember && consents.Count == 0 && consentType != ConsentTypes.Implicit)
        {
            // Remember the consent (listed on the Apps page, where it can be taken back). Tokens are not attached to it: every grant gets its own
            // authorization, so reuse detection or revocation of one grant leaves the others alone.
            await authorizations.CreateAsync(
                principal: new ClaimsPrincipal(new ClaimsIdentity([new Claim(Claims.Subject, subject)], "consent")),
                subject: subject, client: applicationId!, type: AuthorizationTypes.Permanent, scopes: scopes,
                cancellationToken: cancellationToken);
        }

        // acr: the level asked for, which the session reached; else the session's own.
        var principal = await principals.CreateForUserAsync(user!, scopes, authTime, methods, sessionId, required, cancellationToken);
        if (sessionId is not null)
        {
            // The grant belongs to the browser's session: ending the session ends its tokens.
            principal.SetAuthorizationId(await sessions.CreateAuthorizationAsync(
                sessionId, principal, subject, applicationId!, request.ClientId!, scopes, cancellationToken));
        }
        return SignIn(principal, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private ForbidResult Forbid(string error, string description) =>
        Forbid(ProtocolErrors.Properties(error, description), OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);

    /// <summary>Whether the request's id_token_hint, if any, names this user (OpenIddict has validated the token).</summary>
    private async Task<bool> HintNamesAsync(OpenIddictRequest request, string userId)
    {
        if (string.IsNullOrEmpty(request.IdTokenHint))
        {
            return true;
        }
        var hint = await HttpContext.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        return hint.Principal?.GetClaim(Claims.Subject) is { } subject && string.Equals(subject, userId, StringComparison.Ordinal);
    }

    private static long? ReadClaim(ClaimsPrincipal? principal, string type) =>
        long.TryParse(principal?.FindFirst(type)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    /// <summary>The request's own parameters (query or form), without our form fields.</summary>
    private List<KeyValuePair<string, string?>> CurrentParameters()
    {
        IEnumerable<KeyValuePair<string, StringValues>> source = Request.HasFormContentType ? Request.Form : Request.Query;
        return [.. source
            .Where(static p => p.Key is not (ConsentField or RememberField or "__RequestVerificationToken"))
            .SelectMany(static p => p.Value.Select(v => new KeyValuePair<string, string?>(p.Key, v)))];
    }

    /// <summary>
    /// Sends the user to the sign-in page, back to this request afterwards; with a marker when the
    /// request needs a sign-in of its own, so that the fresh sign-in satisfies prompt=login and
    /// max_age instead of looping back to the sign-in page.
    /// </summary>
    private ChallengeResult SignInAgain(List<KeyValuePair<string, string?>> parameters, bool withMarker)
    {
        IEnumerable<KeyValuePair<string, string?>> returned = parameters.Where(static p => p.Key != ReauthenticationMarkers.Parameter).ToList();
        if (withMarker)
        {
            returned = returned.Append(new(ReauthenticationMarkers.Parameter, reauthentication.Create(returned)));
        }
        return Challenge(
            new AuthenticationProperties { RedirectUri = Request.PathBase + Request.Path + QueryString.Create(returned) },
            IdentityConstants.ApplicationScheme);
    }

    /// <summary>
    /// Sends a signed-in user on to reach the level the request needs (see <see cref="StepUpLinks.PathFor"/>):
    /// a code or an authenticator set-up for mfa, a passkey sign-in (the sign-in page says so) for phr.
    /// Each comes back here.
    /// </summary>
    private async Task<IActionResult> StepUpAsync(
        string required, ApplicationUser user, string? sessionId, string? clientId, List<KeyValuePair<string, string?>> parameters, bool freshSignInRequired)
    {
        var returnUrl = Request.PathBase + Request.Path + QueryString.Create(parameters);
        if (sessionId is null || stepUpLinks.PathFor(user, sessionId, required, returnUrl) is not { } path)
        {
            return SignInAgain(parameters, freshSignInRequired);
        }
        if (!user.TwoFactorEnabled)
        {
            await audit.RecordAsync(SecurityEventTypes.MfaEnrolmentRequired, user.Id, user.UserName, sessionId, clientId, cancellationToken: HttpContext.RequestAborted);
        }
        return LocalRedirect(Request.PathBase + path);
    }

    private string ParameterValue(string name) =>
        (Request.HasFormContentType ? Request.Form[name] : Request.Query[name]).ToString();
}
