using IdentityServer.Localization;
using IdentityServer.Data;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Primitives;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;

namespace IdentityServer.Pages.Connect;

/// <summary>
/// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). OpenIddict has validated
/// id_token_hint and matched post_logout_redirect_uri exactly against the client's registration;
/// a signed-in user confirms with a POST (a link or image alone cannot sign them out).
/// </summary>
[IgnoreAntiforgeryToken] // validated by hand: only the confirmation needs it (see OnPostAsync)
public sealed class EndSessionModel(
    SignInManager<ApplicationUser> signIn,
    IOpenIddictApplicationManager applications,
    IAntiforgery antiforgery,
    ILogger<EndSessionModel> logger) : PageModel
{
    public ProtocolError? Problem { get; private set; }

    public string? ApplicationName { get; private set; }

    public IReadOnlyList<KeyValuePair<string, string?>> RequestParameters { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync() => await ShowAsync(Request.Query);

    private async Task<IActionResult> ShowAsync(IEnumerable<KeyValuePair<string, StringValues>> source)
    {
        if (ProtocolFailure() is { } failure)
        {
            return failure;
        }

        // Nobody is signed in here: nothing to confirm, return to the app at once.
        if (User.Identity?.IsAuthenticated != true)
        {
            return SignOutToClient();
        }

        var request = HttpContext.GetOpenIddictServerRequest()!;
        // An empty client_id (which OpenIddict lets through) names no client: the application
        // manager refuses to look it up.
        var clientId = string.IsNullOrEmpty(request.ClientId) ? null : request.ClientId;
        if (clientId is null && request.IdTokenHint is not null)
        {
            // The ID token hint was validated by OpenIddict; its audience is the client.
            var hint = await HttpContext.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            clientId = hint.Principal?.GetAudiences().FirstOrDefault();
        }
        if (clientId is not null && await applications.FindByClientIdAsync(clientId, HttpContext.RequestAborted) is { } application)
        {
            ApplicationName = await applications.GetLocalizedDisplayNameAsync(application, HttpContext.RequestAborted);
        }

        RequestParameters = [.. source.Where(static p => p.Key is not ("confirm" or "__RequestVerificationToken")).SelectMany(static p => p.Value.Select(v => new KeyValuePair<string, string?>(p.Key, v)))];
        return Page();
    }

    /// <summary>
    /// A client may send the logout request as a POST (RP-Initiated Logout 1.0, section 2): that is
    /// handled like a GET. Signing out needs the confirmation from our own form, with its antiforgery token.
    /// </summary>
    public async Task<IActionResult> OnPostAsync([FromForm(Name = "confirm")] string? confirm)
    {
        if (ProtocolFailure() is { } failure)
        {
            return failure;
        }
        if (confirm is null)
        {
            return await ShowAsync(Request.Form);
        }
        try
        {
            await antiforgery.ValidateRequestAsync(HttpContext);
        }
        catch (AntiforgeryValidationException)
        {
            Problem = new(OpenIddict.Abstractions.OpenIddictConstants.Errors.InvalidRequest, Texts.Get("The form has expired or did not come from this site. Go back to the application and sign out again."), ErrorKind.Request);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        if (User.Identity?.IsAuthenticated == true)
        {
            logger.LogInformation("Security event: account {UserId} signed out (RP-initiated).", signIn.UserManager.GetUserId(User));
            await signIn.SignOutAsync();
        }
        return SignOutToClient();
    }

    /// <summary>OpenIddict redirects to the validated post_logout_redirect_uri (with state), or to our "You are signed out" page.</summary>
    private SignOutResult SignOutToClient() => SignOut(
        new AuthenticationProperties { RedirectUri = "/Account/Logout" },
        OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);

    private PageResult? ProtocolFailure()
    {
        if (HttpContext.GetOpenIddictServerResponse() is { Error: not null } response)
        {
            Problem = new(response.Error, response.ErrorDescription);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        return null;
    }
}
