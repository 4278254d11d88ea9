using IdentityServer.Localization;
using IdentityServer.Admin;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin.Users;

/// <summary>Creates an account (no password) and by default mails its owner an invitation; the same service and rules as <c>POST /api/admin/users</c>.</summary>
internal sealed class CreateModel(UserManagement management) : PageModel
{
    [BindProperty]
    public string UserName { get; set; } = "";

    [BindProperty]
    public string Email { get; set; } = "";

    [BindProperty]
    public ProfileInput Profile { get; set; } = new();

    [BindProperty]
    public bool SendInvitation { get; set; } = true;

    public IReadOnlyList<string> AvailableRoles { get; private set; } = [];

    public IReadOnlyList<string> Errors { get; private set; } = [];

    public async Task OnGetAsync() => AvailableRoles = await management.ListRolesAsync(HttpContext.RequestAborted);

    public async Task<IActionResult> OnPostAsync()
    {
        var request = new CreateUserRequest(UserName, Email, Profile.RoleList(), Profile.ClaimList(), SendInvitation);
        var result = await management.CreateAsync(request, AdminAccess.Actor(User), CancellationToken.None);
        if (result.Outcome == ManagementOutcome.Done)
        {
            TempData["AdminMessage"] = result.User!.InvitationSent switch
            {
                true => Texts.Get("The account {0} was created and an invitation was mailed to {1}.", result.User.UserName, result.User.Email),
                false => Texts.Get("The account {0} was created, but the invitation could not be sent. Try again from this page.", result.User.UserName),
                null => Texts.Get("The account {0} was created without an invitation. Send one from this page when the owner should choose a password.", result.User.UserName),
            };
            return RedirectToPage("/Admin/Users/Edit", new { id = result.User.Id });
        }
        Errors = result.Errors?.SelectMany(static e => e.Value).ToList() ?? [result.Problem ?? Texts.Get("The account could not be created.")];
        AvailableRoles = await management.ListRolesAsync(HttpContext.RequestAborted);
        return Page();
    }
}
