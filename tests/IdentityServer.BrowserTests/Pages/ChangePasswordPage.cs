using Microsoft.Playwright;

namespace IdentityServer.BrowserTests.Pages;

/// <summary>/Account/ChangePassword: the signed-in user's current and new password.</summary>
internal sealed class ChangePasswordPage(IPage page)
{
    public const string Path = "/Account/ChangePassword";

    /// <summary>The current, new and confirmed password fields, in that order.</summary>
    public IReadOnlyList<ILocator> Fields { get; } =
        [page.GetByLabel("Current password"), page.GetByLabel("New password", new() { Exact = true }), page.GetByLabel("Confirm new password")];

    /// <summary>The one button that shows all three, found by role and name.</summary>
    public ILocator ShowPasswords => page.GetByRole(AriaRole.Button, new() { Name = "Show passwords", Exact = true });

    public async Task OpenAsync(Uri server) => await page.GotoAsync(new Uri(server, Path).AbsoluteUri);
}
