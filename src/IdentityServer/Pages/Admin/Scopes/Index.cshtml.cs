using IdentityServer.Admin;
using IdentityServer.Localization;
using IdentityServer.Seeding;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin.Scopes;

/// <summary>The defined scopes, and a form to define one (the same service and rules as <c>POST /api/admin/scopes</c>).</summary>
internal sealed class IndexModel(ScopeManagement scopes) : PageModel
{
    [BindProperty]
    public ScopeForm Form { get; set; } = new();

    public IReadOnlyList<SeedScope> Scopes { get; private set; } = [];

    public IReadOnlyList<string> Errors { get; private set; } = [];

    public async Task OnGetAsync() => Scopes = await scopes.ListAsync(HttpContext.RequestAborted);

    public async Task<IActionResult> OnPostAsync()
    {
        var result = await scopes.CreateAsync(Form.ToScope(), AdminAccess.Actor(User), CancellationToken.None);
        if (result.Outcome == ManagementOutcome.Done)
        {
            TempData["AdminMessage"] = Texts.Get("The scope {0} was defined; clients may be given it now.", result.Scope!.Name!);
            return RedirectToPage("/Admin/Scopes/Edit", new { name = result.Scope.Name });
        }
        Errors = result.Errors?.SelectMany(static e => e.Value).ToList() ?? [result.Problem ?? Texts.Get("The scope could not be defined.")];
        Scopes = await scopes.ListAsync(HttpContext.RequestAborted);
        return Page();
    }
}
