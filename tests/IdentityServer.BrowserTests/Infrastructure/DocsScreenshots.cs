using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace IdentityServer.BrowserTests.Infrastructure;

/// <summary>
/// The screenshots in docs/screenshots, taken by the browser test that visits every page: a desktop
/// and a phone picture of each, light scheme. They are rewritten only when
/// <c>IDP_UPDATE_SCREENSHOTS=1</c> (times, addresses and ids differ on every run, so a normal run
/// leaves the committed pictures alone); <see cref="Missing"/> makes sure none is missing.
/// </summary>
internal static partial class DocsScreenshots
{
    public static readonly string Folder = IdentityServer.Tests.Infrastructure.Repository.File("docs", "screenshots");

    private static readonly (string Suffix, int Width, int Height)[] Viewports = [("desktop", 1280, 800), ("phone", 390, 844)];

    public static bool Updating => Environment.GetEnvironmentVariable("IDP_UPDATE_SCREENSHOTS") == "1";

    /// <summary>"admin: new user" → "admin-new-user".</summary>
    public static string Slug(string name) => NotWord().Replace(name.ToLowerInvariant(), "-").Trim('-');

    public static IEnumerable<string> Files(string name) => Viewports.Select(v => $"{Slug(name)}-{v.Suffix}.png");

    /// <summary>The pictures of these pages that the folder lacks.</summary>
    public static IReadOnlyList<string> Missing(IEnumerable<string> names) =>
        [.. names.SelectMany(Files).Where(static file => !File.Exists(Path.Combine(Folder, file)))];

    public static async Task TakeAsync(IPage page, string name)
    {
        if (!Updating)
        {
            return;
        }
        Directory.CreateDirectory(Folder);
        var original = page.ViewportSize;
        foreach (var (suffix, width, height) in Viewports)
        {
            await page.SetViewportSizeAsync(width, height);
            await page.ScreenshotAsync(new() { Path = Path.Combine(Folder, $"{Slug(name)}-{suffix}.png"), FullPage = true });
        }
        if (original is not null)
        {
            await page.SetViewportSizeAsync(original.Width, original.Height);
        }
    }

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NotWord();
}
