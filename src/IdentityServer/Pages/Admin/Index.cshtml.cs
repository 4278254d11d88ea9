using IdentityServer.Localization;
using IdentityServer.Admin;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin;

/// <summary>The admin start page: session statistics of the last week and the user search.</summary>
internal sealed class IndexModel(UserAdministration admin, TimeProvider clock) : PageModel
{
    private const int PageSize = 25;

    [BindProperty(SupportsGet = true)]
    public string? Query { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public SessionStatistics Statistics { get; private set; } = null!;

    public UserPage Users { get; private set; } = null!;

    public async Task OnGetAsync()
    {
        var cancellationToken = HttpContext.RequestAborted;
        var interval = StatisticsInterval.Day;
        var end = interval.Ceiling(clock.GetUtcNow());
        Statistics = await admin.StatisticsAsync(end - interval.DefaultBuckets * interval.Length, end, interval, cancellationToken);
        Query = Query?.Length > 256 ? Query[..256] : Query;
        PageNumber = Math.Max(1, PageNumber);
        Users = await admin.SearchAsync(Query, PageNumber, PageSize, cancellationToken);
    }
}
