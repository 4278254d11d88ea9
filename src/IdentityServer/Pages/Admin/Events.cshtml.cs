using IdentityServer.Localization;
using System.Globalization;
using IdentityServer.Admin;
using IdentityServer.Audit;
using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin;

/// <summary>The audit trail, filtered by user (name or id), event type and a UTC time range, 50 events a page.</summary>
internal sealed class EventsModel(UserAdministration admin, UserManager<ApplicationUser> users) : PageModel
{
    public const int PageSize = 50;

    /// <summary>How far back the pages go: past that, narrow the filter.</summary>
    private const int MaxPage = 200;

    /// <summary>The value format of a datetime-local input; times are read as UTC.</summary>
    private const string LocalFormat = "yyyy-MM-ddTHH:mm";

    [BindProperty(SupportsGet = true, Name = "user")]
    public string? UserFilter { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Type { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? From { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? To { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public IReadOnlyList<SecurityEventView> Events { get; private set; } = [];

    public bool HasOlder { get; private set; }

    /// <summary>Every event type, in the order of their labels in the reader's language.</summary>
    public static IEnumerable<string> Types => SecurityEventTypes.All.OrderBy(SecurityEventLabels.For, StringComparer.Create(CultureInfo.CurrentCulture, ignoreCase: true));

    public string? Problem { get; private set; }

    public async Task OnGetAsync()
    {
        var from = Parse(From, nameof(From));
        var to = Parse(To, nameof(To));
        if (!string.IsNullOrEmpty(Type) && !SecurityEventTypes.All.Contains(Type))
        {
            Problem = Texts.Get("Unknown event type.");
        }
        if (Problem is not null || UserFilter?.Length > 450)
        {
            Problem ??= Texts.Get("The user filter is too long.");
            return;
        }

        // Events of a deleted account keep its id, so an unknown name is tried as an id.
        string? userId = null;
        if (!string.IsNullOrWhiteSpace(UserFilter))
        {
            userId = (await users.FindByNameAsync(UserFilter.Trim()))?.Id ?? UserFilter.Trim();
        }
        PageNumber = Math.Clamp(PageNumber, 1, MaxPage);
        // One more than a page tells whether an older page exists.
        var events = await admin.QueryEventsAsync(userId, string.IsNullOrEmpty(Type) ? null : Type, from, to, PageSize + 1, HttpContext.RequestAborted,
            skip: (PageNumber - 1) * PageSize);
        HasOlder = events.Count > PageSize && PageNumber < MaxPage;
        Events = events.Take(PageSize).ToList();
    }

    /// <summary>The address of another page of the same filter.</summary>
    public string PageLink(int page) => QueryString.Create(new Dictionary<string, string?>
    {
        ["user"] = UserFilter, ["type"] = Type, ["from"] = From, ["to"] = To, ["p"] = page.ToString(CultureInfo.InvariantCulture),
    }.Where(static p => !string.IsNullOrEmpty(p.Value))).ToUriComponent();

    private DateTimeOffset? Parse(string? value, string name)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        if (DateTime.TryParseExact(value, [LocalFormat, LocalFormat + ":ss"], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed))
        {
            return new DateTimeOffset(parsed, TimeSpan.Zero);
        }
        Problem = Texts.Get("'{0}' is not a date and time.", name);
        return null;
    }
}
