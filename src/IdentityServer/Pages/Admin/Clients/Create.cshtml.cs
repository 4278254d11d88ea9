using IdentityServer.Admin;
using IdentityServer.Localization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin.Clients;

/// <summary>
/// Registers a client with the same service and rules as <c>POST /api/admin/clients</c>. The answer shows
/// the generated secret once, in this response only (never in a cookie or a later page).
/// </summary>
internal sealed class CreateModel(ClientManagement clients, ScopeManagement scopes) : PageModel
{
    [BindProperty]
    public ClientForm Form { get; set; } = new();

    public IReadOnlyList<string> AvailableScopes { get; private set; } = [];

    public IReadOnlyList<string> Errors { get; private set; } = [];

    public ClientForm? Created { get; private set; }

    public string? Secret { get; private set; }

    public async Task OnGetAsync() => AvailableScopes = await scopes.NamesAsync(HttpContext.RequestAborted);

    public async Task<IActionResult> OnPostAsync()
    {
        var result = await clients.CreateAsync(Form.ToClient(), AdminAccess.Actor(User), CancellationToken.None);
        if (result.Outcome == ManagementOutcome.Done)
        {
            Created = ClientForm.From(result.Client!.Client);
            Secret = result.Client.ClientSecret;
            Response.Headers.CacheControl = "no-store";
            return Page();
        }
        Errors = result.Errors?.SelectMany(static e => e.Value).ToList() ?? [result.Problem ?? Texts.Get("The client could not be registered.")];
        AvailableScopes = await scopes.NamesAsync(HttpContext.RequestAborted);
        return Page();
    }
}
