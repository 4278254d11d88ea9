using IdentityServer.Localization;
using IdentityServer.Account;
using IdentityServer.Data;
using IdentityServer.Sessions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// The apps the signed-in user allowed (remembered consent), what each may do and when it last got a
/// token, with "Remove access": the consent, the app's grants and its tokens are revoked, and the app
/// asks again the next time.
/// </summary>
[Authorize]
public sealed class AppsModel(ConnectedApps connectedApps, UserManager<ApplicationUser> users) : PageModel
{
    public IReadOnlyList<ConnectedApp> Apps { get; private set; } = [];

    public string? Message { get; private set; }

    public async Task OnGetAsync([FromQuery] string? removed)
    {
        Message = removed is null ? null : Texts.Get("{0} no longer has access to your account. It will ask again if you use it.", removed);
        Apps = await connectedApps.ListAsync(users.GetUserId(User)!, HttpContext.RequestAborted);
    }

    public async Task<IActionResult> OnPostRemoveAsync([FromForm] string? clientId)
    {
        var userId = users.GetUserId(User)!;
        var apps = await connectedApps.ListAsync(userId, HttpContext.RequestAborted);
        if (apps.FirstOrDefault(a => a.ClientId == clientId) is not { } app)
        {
            // Not (or no longer) one of this user's apps: nothing to remove.
            Message = Texts.Get("That app had no access to remove.");
            Apps = apps;
            return Page();
        }
        await connectedApps.RemoveAsync(userId, User.Identity?.Name, User.FindFirst(SessionService.SessionIdClaim)?.Value, app.ClientId, HttpContext.RequestAborted);
        return RedirectToPage(new { removed = app.Name });
    }
}
