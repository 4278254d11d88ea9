using IdentityServer.Localization;
using IdentityServer.Audit;
using IdentityServer.Authorization;
using IdentityServer.Data;
using IdentityServer.RateLimiting;
using IdentityServer.Sessions;
using IdentityServer.StepUp;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Pages.Connect;

/// <summary>
/// The end-user verification page of the device authorization grant (RFC 8628): a signed-in user
/// types the code shown on the device (or follows verification_uri_complete), sees which app asks
/// for what, and allows or denies it. Code entry (each lookup and each decision) is rate-limited per
/// user, and the refusal shows on this page; OpenIddict checks the code and its expiry. A client
/// that requires two factors (RequireMfa) gets a device grant only from a session that has them:
/// the user is sent to step up first, as at the authorization endpoint.
/// </summary>
[Authorize]
public sealed class VerifyModel(
    IOpenIddictApplicationManager applications,
    IOpenIddictScopeManager scopeManager,
    UserManager<ApplicationUser> users,
    PrincipalFactory principals,
    SessionService sessions,
    AuditLog audit,
    RateLimiters limits,
    StepUpPolicy stepUp,
    StepUpLinks stepUpLinks) : PageModel
{
    public string? UserCode { get; private set; }

    public string? ApplicationName { get; private set; }

    public IReadOnlyList<(string Name, string Description)> Scopes { get; private set; } = [];

    public string? Error { get; private set; }

    /// <summary>approved or denied, after a decision.</summary>
    public string? Result { get; private set; }

    public async Task<IActionResult> OnGetAsync([FromQuery(Name = "result")] string? result)
    {
        var request = HttpContext.GetOpenIddictServerRequest();
        UserCode = request?.UserCode;
        if (string.IsNullOrEmpty(UserCode))
        {
            Result = result is "approved" or "denied" ? result : null;
            return Page();
        }
        if (IsOverLimit() || await FindCodeAsync() is not { } code)
        {
            return Page();
        }
        if (await StepUpAsync(code) is { } elsewhere)
        {
            return elsewhere;
        }
        ApplicationName = code.Name;
        Scopes = await ScopeDescriptions.DescribeAsync(scopeManager, code.Principal.GetScopes(), HttpContext.RequestAborted);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync([FromForm(Name = "decision")] string? decision)
    {
        var request = HttpContext.GetOpenIddictServerRequest();
        UserCode = request?.UserCode;
        if (string.IsNullOrEmpty(UserCode) || IsOverLimit() || await FindCodeAsync() is not { } code)
        {
            return Page();
        }
        var cancellationToken = HttpContext.RequestAborted;

        if (decision != "accept")
        {
            return Forbid(new AuthenticationProperties { RedirectUri = "/connect/verify?result=denied" }, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        var user = users.GetUserId(User) is { } userId ? await users.FindByIdFastAsync(userId, cancellationToken) : null;
        if (user is null)
        {
            return Challenge();
        }
        if (await StepUpAsync(code) is { } elsewhere)
        {
            return elsewhere;
        }
        var scopes = code.Principal.GetScopes();
        var sessionId = User.FindFirst(SessionService.SessionIdClaim)?.Value;
        var methods = User.FindAll(Claims.AuthenticationMethodReference).Select(static c => c.Value);
        var principal = await principals.CreateForUserAsync(user, scopes, authenticationTime: null, methods, sessionId, authenticationContextClass: null, cancellationToken);
        if (sessionId is not null)
        {
            // Like a browser sign-in, the device's grant belongs to the session that approved it.
            principal.SetAuthorizationId(await sessions.CreateAuthorizationAsync(
                sessionId, principal, user.Id, code.ApplicationId, code.ClientId, scopes, cancellationToken));
        }
        await audit.RecordAsync(SecurityEventTypes.ConsentGranted, user.Id, user.UserName, sessionId, code.ClientId,
            detail: "device: " + string.Join(' ', scopes), cancellationToken: cancellationToken);
        return SignIn(principal, new AuthenticationProperties { RedirectUri = "/connect/verify?result=approved" }, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// Null when the session reaches the level the client requires; otherwise where the user goes to
    /// reach it, coming back to this code: the step-up page or the authenticator set-up, or the sign-in page (phr).
    /// </summary>
    private async Task<IActionResult?> StepUpAsync(DeviceRequest code)
    {
        var application = await applications.FindByClientIdAsync(code.ClientId, HttpContext.RequestAborted);
        if (application is null || await stepUp.RequiredLevelAsync(application, [], HttpContext.RequestAborted) is not { } required
            || AuthenticationLevels.Reaches(AuthenticationLevels.Of(User.FindAll(Claims.AuthenticationMethodReference).Select(static c => c.Value)), required))
        {
            return null;
        }
        var returnUrl = Request.PathBase + Request.Path + QueryString.Create(Parameters.UserCode, UserCode!);
        var user = await users.GetUserAsync(User);
        return user is not null && User.FindFirst(SessionService.SessionIdClaim)?.Value is { } sessionId
            && stepUpLinks.PathFor(user, sessionId, required, returnUrl) is { } path
            ? LocalRedirect(Request.PathBase + path)
            : Challenge(new AuthenticationProperties { RedirectUri = returnUrl });
    }

    /// <summary>Counts one use of a user code; over the limit, answers 429 on this page instead of looking the code up.</summary>
    private bool IsOverLimit()
    {
        using var lease = limits.AcquireDeviceVerification(HttpContext);
        if (lease.IsAcquired)
        {
            return false;
        }
        var seconds = RateLimitResponses.Refuse(Response, lease);
        Error = Texts.Get("Too many codes entered. Wait {0}, then try again.", RateLimitResponses.DescribeForReader(seconds));
        return true;
    }

    /// <summary>The device request behind the typed user code, if the code is valid and unexpired.</summary>
    private async Task<DeviceRequest?> FindCodeAsync()
    {
        var result = await HttpContext.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        if (result is { Succeeded: true, Principal: { } principal }
            && principal.GetPresenters().FirstOrDefault() is { } clientId
            && await applications.FindByClientIdAsync(clientId, HttpContext.RequestAborted) is { } application)
        {
            // The code as OpenIddict reformatted it (grouped, without ignored characters), for display.
            UserCode = result.Properties?.GetTokenValue(OpenIddictServerAspNetCoreConstants.Tokens.UserCode) ?? UserCode;
            var name = await applications.GetLocalizedDisplayNameAsync(application, HttpContext.RequestAborted) ?? clientId;
            var id = await applications.GetIdAsync(application, HttpContext.RequestAborted);
            return new DeviceRequest(principal, clientId, id!, name);
        }
        Error = Texts.Get("That code is not valid or has expired. Check the code on your device and try again.");
        return null;
    }

    private sealed record DeviceRequest(System.Security.Claims.ClaimsPrincipal Principal, string ClientId, string ApplicationId, string Name);
}
