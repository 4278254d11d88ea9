using IdentityServer.Admin;
using IdentityServer.Localization;
using IdentityServer.Seeding;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin.Scopes;

/// <summary>One scope: its settings changed or the scope deleted (the same service and rules as the admin API).</summary>
internal sealed class EditModel(ScopeManagement scopes) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string Name { get; set; } = "";

    [BindProperty]
    public ScopeForm Form { get; set; } = new();

    public SeedScope Scope { get; private set; } = null!;

    public IReadOnlyList<string> Errors { get; private set; } = [];

    /// <summary>The standard scopes and idp.admin are the server's: shown, not changed.</summary>
    public bool IsServers => Name == AdminScope.Name;

    public async Task<IActionResult> OnGetAsync()
    {
        if (await scopes.GetAsync(Name, HttpContext.RequestAborted) is not { } scope)
        {
            return NotFound();
        }
        Scope = scope;
        Form = ScopeForm.From(scope);
        return Page();
    }

    public async Task<IActionResult> OnPostSaveAsync()
    {
        if (await scopes.GetAsync(Name, HttpContext.RequestAborted) is not { } current)
        {
            return NotFound();
        }
        Form.Name = Name;
        var result = await scopes.UpdateAsync(Name, Form.ToScope(current.DisplayNames), AdminAccess.Actor(User), CancellationToken.None);
        if (result.Outcome == ManagementOutcome.Done)
        {
            TempData["AdminMessage"] = Texts.Get("The scope's settings were saved. New tokens follow them at once.");
            return RedirectToPage("/Admin/Scopes/Edit", new { name = Name });
        }
        Scope = current;
        Errors = result.Errors?.SelectMany(static e => e.Value).ToList() ?? [result.Problem ?? Texts.Get("The settings could not be saved.")];
        return Page();
    }

    public async Task<IActionResult> OnPostDeleteAsync()
    {
        var result = await scopes.DeleteAsync(Name, AdminAccess.Actor(User), CancellationToken.None);
        if (result.Outcome == ManagementOutcome.NotFound)
        {
            return NotFound();
        }
        TempData["AdminMessage"] = result.Outcome == ManagementOutcome.Done
            ? Texts.Get("The scope {0} was deleted.", Name)
            : result.Problem ?? Texts.Get("The scope was not deleted.");
        return result.Outcome == ManagementOutcome.Done ? RedirectToPage("/Admin/Scopes/Index") : RedirectToPage("/Admin/Scopes/Edit", new { name = Name });
    }
}
