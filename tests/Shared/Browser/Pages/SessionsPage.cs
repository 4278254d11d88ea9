using Microsoft.Playwright;

namespace IdP.Tests.Browser.Pages;

/// <summary>/Account/Sessions: the signed-in user's sessions, one list item per device.</summary>
internal sealed class SessionsPage(IPage page)
{
    public const string Path = "/Account/Sessions";

    public ILocator Session(string sessionId) => page.Locator($"li.session[data-session-id='{sessionId}']");

    public ILocator CurrentBadge(string sessionId) => Session(sessionId).Locator(".badge.current");

    public async Task OpenAsync(Uri server) => await page.GotoAsync(new Uri(server, Path).AbsoluteUri);

    public async Task<IReadOnlyList<string>> SessionIdsAsync()
    {
        var ids = new List<string>();
        foreach (var item in await page.Locator("li.session").AllAsync())
        {
            ids.Add(await item.GetAttributeAsync("data-session-id") ?? "");
        }
        return ids;
    }

    public async Task EndAsync(string sessionId) => await Session(sessionId).Locator("button.end-session").ClickAsync();
}
