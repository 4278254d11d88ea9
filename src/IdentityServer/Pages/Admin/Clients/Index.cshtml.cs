using IdentityServer.Admin;
using IdentityServer.Seeding;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin.Clients;

/// <summary>The registered clients, as the admin API lists them: what each may do, at a glance.</summary>
internal sealed class IndexModel(ClientManagement clients) : PageModel
{
    public IReadOnlyList<SeedClient> Clients { get; private set; } = [];

    public async Task OnGetAsync() => Clients = await clients.ListAsync(HttpContext.RequestAborted);
}
