using System.Globalization;
using System.Text.Json;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace IdentityServer.BrowserTests.Infrastructure;

/// <summary>
/// axe-core (Deque's engine, as the browser runs it) over the page as it is now, against the WCAG 2.0
/// and 2.1 A and AA rules, plus the one AA check axe leaves out: the borders that show where an input
/// or button is (WCAG 1.4.11, non-text contrast of at least 3:1), and reflow (WCAG 1.4.10): at 320 CSS
/// pixels wide the page does not scroll sideways (a wide table may, inside its own scrolling region).
/// One line per problem and page.
/// </summary>
internal static class AccessibilityCheck
{
    private static readonly AxeRunOptions Options = new()
    {
        RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    };

    /// <summary>Border and background colour of every visible control, and the page background behind them.</summary>
    private const string BordersScript = """
        () => [...document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea, button, a.button')]
            .filter(e => e.offsetParent !== null)
            .map(e => ({ id: e.id || e.name || e.tagName, border: getComputedStyle(e).borderTopColor, page: getComputedStyle(document.body).backgroundColor }))
        """;

    /// <summary>How far the page is wider than the window, and the outermost elements that stick out on the right (or whose text does).</summary>
    private const string OverflowScript = """
        () => {
          const width = document.documentElement.clientWidth;
          const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.name ? `[name='${e.name}']` : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '');
          const out = [...document.body.querySelectorAll('*')]
            .filter(e => !e.parentElement.closest('.table-scroll'))
            .filter(e => e.getBoundingClientRect().right > width + 0.5
              || (getComputedStyle(e).overflowX === 'visible' && e.getBoundingClientRect().left + e.scrollWidth > width + 0.5))
            .filter((e, _, all) => !all.includes(e.parentElement) || e.parentElement.getBoundingClientRect().right <= width + 0.5);
          return { excess: document.documentElement.scrollWidth - width, elements: out.slice(0, 3).map(name) };
        }
        """;

    private const int ReflowWidth = 320;

    public static async Task<IReadOnlyList<string>> ProblemsAsync(IPage page, string name)
    {
        var result = await page.RunAxe(Options);
        // A page axe could not read (or a run that checked nothing) must not pass as clean.
        Assert.True(result.Passes.Length > 0, $"axe-core checked nothing on {name} ({page.Url}).");
        var where = $"{name} ({new Uri(page.Url).PathAndQuery})";
        var problems = result.Violations
            .Where(static v => v.Impact is "serious" or "critical")
            .Select(v => $"{where}: {v.Id} ({v.Impact}) {v.Help}: " + string.Join(", ", v.Nodes.Select(static n => n.Target?.ToString()).Take(3)))
            .ToList();
        foreach (var control in (await page.EvaluateAsync<JsonElement>(BordersScript)).EnumerateArray())
        {
            var background = Rgba(control.GetProperty("page").GetString()!);
            var ratio = Contrast(Over(Rgba(control.GetProperty("border").GetString()!), background), Over(background, (1, 1, 1, 1)));
            if (ratio < 3)
            {
                problems.Add($"{where}: border of '{control.GetProperty("id").GetString()}' has contrast {ratio:0.00}:1 with the page, below 3:1 (WCAG 1.4.11)");
            }
        }
        var viewport = page.ViewportSize;
        await page.SetViewportSizeAsync(ReflowWidth, 800);
        var overflow = await page.EvaluateAsync<JsonElement>(OverflowScript);
        if (viewport is not null)
        {
            await page.SetViewportSizeAsync(viewport.Width, viewport.Height);
        }
        if (overflow.GetProperty("excess").GetDouble() > 0)
        {
            problems.Add($"{where}: {overflow.GetProperty("excess").GetDouble()} px wider than a {ReflowWidth} px window, so it scrolls sideways (WCAG 1.4.10), at "
                + string.Join(", ", overflow.GetProperty("elements").EnumerateArray().Select(static e => e.GetString())));
        }
        return problems;
    }

    /// <summary>WCAG 2.x contrast ratio of two sRGB colours.</summary>
    internal static double Contrast((double R, double G, double B) a, (double R, double G, double B) b)
    {
        static double Luminance((double R, double G, double B) c)
        {
            static double Linear(double v) => v <= 0.03928 ? v / 12.92 : Math.Pow((v + 0.055) / 1.055, 2.4);
            return (0.2126 * Linear(c.R)) + (0.7152 * Linear(c.G)) + (0.0722 * Linear(c.B));
        }
        var (light, dark) = (Math.Max(Luminance(a), Luminance(b)), Math.Min(Luminance(a), Luminance(b)));
        return (light + 0.05) / (dark + 0.05);
    }

    /// <summary>A computed colour, <c>rgb(r, g, b)</c> or <c>rgba(r, g, b, a)</c>, as 0..1 channels.</summary>
    private static (double R, double G, double B, double A) Rgba(string css)
    {
        var parts = css[(css.IndexOf('(', StringComparison.Ordinal) + 1)..css.IndexOf(')', StringComparison.Ordinal)]
            .Split(',', StringSplitOptions.TrimEntries)
            .Select(static p => double.Parse(p, CultureInfo.InvariantCulture))
            .ToArray();
        return (parts[0] / 255, parts[1] / 255, parts[2] / 255, parts.Length > 3 ? parts[3] : 1);
    }

    /// <summary>A translucent colour as it shows over an opaque one (a half-transparent grey border over white is light grey).</summary>
    private static (double R, double G, double B) Over((double R, double G, double B, double A) top, (double R, double G, double B, double A) under) =>
        ((top.A * top.R) + ((1 - top.A) * under.R), (top.A * top.G) + ((1 - top.A) * under.G), (top.A * top.B) + ((1 - top.A) * under.B));
}
