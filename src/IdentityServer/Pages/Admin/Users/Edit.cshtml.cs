using IdentityServer.Localization;
using IdentityServer.Admin;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin.Users;

/// <summary>
/// An account's roles and profile claims, and the mails an administrator can send it (a reset link,
/// a new invitation). The same service and rules as the admin API; every change is a POST that
/// redirects back.
/// </summary>
internal sealed class EditModel(UserManagement management) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string Id { get; set; } = "";

    [BindProperty]
    public ProfileInput Profile { get; set; } = new();

    public ManagedUser Account { get; private set; } = null!;

    public IReadOnlyList<string> AvailableRoles { get; private set; } = [];

    public IReadOnlyList<string> Errors { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync() => await LoadAsync(fromAccount: true) ? Page() : NotFound();

    public async Task<IActionResult> OnPostSaveAsync()
    {
        var result = await management.UpdateAsync(Id, new UpdateUserRequest(Profile.RoleList(), Profile.ClaimList()), AdminAccess.Actor(User), CancellationToken.None);
        switch (result.Outcome)
        {
            case ManagementOutcome.NotFound:
                return NotFound();
            case ManagementOutcome.Done:
                return Back(Texts.Get("Roles and profile claims were saved."));
            default:
                Errors = result.Errors?.SelectMany(static e => e.Value).ToList() ?? [result.Problem ?? Texts.Get("Nothing was changed.")];
                await LoadAsync(fromAccount: false);
                return Page();
        }
    }

    public async Task<IActionResult> OnPostSendResetAsync() =>
        Answer(await management.SendPasswordResetAsync(Id, AdminAccess.Actor(User), CancellationToken.None), Texts.Get("A password reset link was mailed."));

    public async Task<IActionResult> OnPostInviteAsync() =>
        Answer(await management.ResendInvitationAsync(Id, AdminAccess.Actor(User), CancellationToken.None), Texts.Get("A new invitation was mailed; earlier links no longer work."));

    private IActionResult Answer(ManagementResult result, string done) => result.Outcome switch
    {
        ManagementOutcome.NotFound => NotFound(),
        ManagementOutcome.Done => Back(done),
        _ => Back(result.Problem ?? Texts.Get("Nothing was sent.")),
    };

    private async Task<bool> LoadAsync(bool fromAccount)
    {
        if (await management.FindAsync(Id) is not { } account)
        {
            return false;
        }
        Account = account;
        AvailableRoles = await management.ListRolesAsync(HttpContext.RequestAborted);
        if (fromAccount)
        {
            Profile = new ProfileInput
            {
                Roles = [.. account.Roles],
                Claims = account.Claims.ToDictionary(static c => c.Type!, static c => c.Value, StringComparer.Ordinal),
            };
        }
        return true;
    }

    private RedirectToPageResult Back(string message)
    {
        TempData["AdminMessage"] = message;
        return RedirectToPage(new { id = Id });
    }
}
