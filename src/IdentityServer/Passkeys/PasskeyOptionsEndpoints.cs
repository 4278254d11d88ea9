using IdentityServer.Data;
using IdentityServer.TwoFactor;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Identity;
using Microsoft.Net.Http.Headers;

namespace IdentityServer.Passkeys;

/// <summary>
/// The options a page's script hands to <c>navigator.credentials</c>. Each answer also sets Identity's
/// two-factor cookie with the challenge (data-protected, this browser only, one use), which the
/// page's form post is then checked against. Posts with the page's antiforgery token in the
/// <c>RequestVerificationToken</c> header, so another site cannot start ceremonies in a user's browser.
/// </summary>
internal static class PasskeyOptionsEndpoints
{
    public const string RequestOptionsPath = "/Account/Passkeys/RequestOptions";
    public const string CreationOptionsPath = "/Account/Passkeys/CreationOptions";

    public static void MapPasskeyOptions(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(RequestOptionsPath, RequestOptionsAsync);
        endpoints.MapPost(CreationOptionsPath, CreationOptionsAsync);
    }

    /// <summary>For the sign-in page: no account named (the passkey names it), so nothing tells which accounts exist.</summary>
    private static async Task<IResult> RequestOptionsAsync(HttpContext context, IAntiforgery antiforgery, SignInManager<ApplicationUser> signIn)
    {
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return Results.BadRequest();
        }
        return Json(context, await signIn.MakePasskeyRequestOptionsAsync(null));
    }

    /// <summary>For the Security page: the signed-in account, with a sign-in of the last few minutes (as adding needs).</summary>
    private static async Task<IResult> CreationOptionsAsync(HttpContext context, IAntiforgery antiforgery, UserManager<ApplicationUser> users,
        FreshSignIn freshSignIn, AccountPasskeys passkeys)
    {
        if (await users.GetUserAsync(context.User) is not { } user)
        {
            return Results.Unauthorized();
        }
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return Results.BadRequest();
        }
        if (!freshSignIn.IsFresh(context.User))
        {
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        }
        return Json(context, await passkeys.CreationOptionsAsync(user));
    }

    private static IResult Json(HttpContext context, string json)
    {
        // A challenge is for this browser and this moment only.
        context.Response.Headers[HeaderNames.CacheControl] = "no-store";
        return Results.Content(json, "application/json");
    }
}
