using IdentityServer.Localization;
using IdentityServer.Admin;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin.Users;

/// <summary>
/// One account: its sessions (end one or all), lock and unlock, delete after typing the user
/// name, and its recent security events. Every change is a POST that redirects back (no resubmission on reload).
/// </summary>
internal sealed class DetailsModel(UserAdministration admin) : PageModel
{
    private const int RecentEvents = 20;

    [BindProperty(SupportsGet = true)]
    public string Id { get; set; } = "";

    public UserDetails Account { get; private set; } = null!;

    public IReadOnlyList<SessionView> Sessions { get; private set; } = [];

    public IReadOnlyList<SecurityEventView> Events { get; private set; } = [];

    /// <summary>An admin may not lock or delete the account they are signed in with.</summary>
    public bool IsSelf => Id == AdminAccess.Actor(User);

    public async Task<IActionResult> OnGetAsync()
    {
        var cancellationToken = HttpContext.RequestAborted;
        if (await admin.FindAsync(Id, cancellationToken) is not { } account)
        {
            return NotFound();
        }
        Account = account;
        Sessions = await admin.ListSessionsAsync(Id, includeEnded: true, cancellationToken) ?? [];
        Events = await admin.QueryEventsAsync(Id, null, null, null, RecentEvents, cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostEndSessionAsync(string sessionId)
    {
        var outcome = await admin.EndSessionAsync(Id, sessionId ?? "", AdminAccess.Actor(User), HttpContext.RequestAborted);
        return outcome == EndSessionOutcome.NotFound ? NotFound() : Back(outcome == EndSessionOutcome.Ended ? Texts.Get("The session was ended.") : Texts.Get("The session had already ended."));
    }

    public async Task<IActionResult> OnPostEndAllAsync() =>
        await admin.EndAllSessionsAsync(Id, AdminAccess.Actor(User), HttpContext.RequestAborted) is { } ended
            ? Back(Texts.Get("{0} sessions were ended.", ended.Ended))
            : NotFound();

    public async Task<IActionResult> OnPostLockAsync()
    {
        if (IsSelf)
        {
            return Back(Texts.Get("You cannot lock your own account."));
        }
        return await admin.LockAsync(Id, AdminAccess.Actor(User), HttpContext.RequestAborted) is { } ended
            ? Back(Texts.Get("The account was locked and {0} sessions were ended.", ended.Ended))
            : NotFound();
    }

    public async Task<IActionResult> OnPostUnlockAsync() =>
        await admin.UnlockAsync(Id, AdminAccess.Actor(User), HttpContext.RequestAborted) ? Back(Texts.Get("The account was unlocked.")) : NotFound();

    public async Task<IActionResult> OnPostResetSecondFactorsAsync()
    {
        if (IsSelf)
        {
            return Back(Texts.Get("Turn off your own authenticator app on your Security page."));
        }
        return await admin.ResetSecondFactorsAsync(Id, AdminAccess.Actor(User), HttpContext.RequestAborted) is { } ended
            ? Back(Texts.Get("The second factors were reset and {0} sessions were ended.", ended.Ended))
            : NotFound();
    }

    public async Task<IActionResult> OnPostDeleteAsync(string? confirmUserName)
    {
        var cancellationToken = HttpContext.RequestAborted;
        if (await admin.FindAsync(Id, cancellationToken) is not { } account)
        {
            return NotFound();
        }
        if (IsSelf)
        {
            return Back(Texts.Get("You cannot delete your own account."));
        }
        // Deleting cannot be undone: the admin confirms by typing the user name.
        if (!string.Equals(confirmUserName?.Trim(), account.UserName, StringComparison.Ordinal))
        {
            return Back(Texts.Get("Type the user name exactly to confirm the deletion."));
        }
        await admin.DeleteAsync(Id, AdminAccess.Actor(User), cancellationToken);
        TempData["AdminMessage"] = Texts.Get("The account {0} was deleted.", account.UserName);
        return RedirectToPage("/Admin/Index");
    }

    private RedirectToPageResult Back(string message)
    {
        TempData["AdminMessage"] = message;
        return RedirectToPage(new { id = Id });
    }
}
