using IdentityServer.BrowserTests.Infrastructure;
using IdentityServer.Seeding;
using Microsoft.Playwright;

namespace IdentityServer.BrowserTests.Accessibility;

/// <summary>The server with self-registration on, so that every page the product has can be opened.</summary>
public sealed class AccessibilityHost() : IdentityServerHost(new Dictionary<string, string> { ["Accounts:AllowRegistration"] = "true" });

/// <summary>
/// Every page, signed out and signed in (as the demo admin), checked by axe-core against WCAG 2.1 A
/// and AA: a serious or critical violation anywhere fails the test, naming the page and the rule.
/// </summary>
public sealed partial class AccessibilityTests(AccessibilityHost host, ChromiumFixture chromium)
    : IClassFixture<AccessibilityHost>, IClassFixture<ChromiumFixture>
{
    private static readonly (string Name, string Path)[] SignedOutPages =
    [
        ("home", "/"),
        ("sign-in", "/Account/Login"),
        ("forgot password", "/Account/ForgotPassword"),
        ("register", "/Account/Register"),
        ("signed out", "/Account/Logout"),
        ("invalid link", "/Account/ResetPassword"),
        ("page not found", "/Account/NoSuchPage"),
        ("application's bad request", "/connect/authorize?client_id=demo-web&response_type=code&redirect_uri=https%3A%2F%2Felsewhere.example%2F&scope=openid"),
    ];

    private static readonly (string Name, string Path)[] SignedInPages =
    [
        ("home, signed in", "/"),
        ("sessions", "/Account/Sessions"),
        ("apps you allowed", "/Account/Apps"),
        ("security", "/Account/Security"),
        ("authenticator set-up", "/Account/Authenticator"),
        ("change password", "/Account/ChangePassword"),
        ("e-mail", "/Account/Email"),
        ("passkeys", "/Account/Passkeys"),
        ("sign-out confirmation", "/Account/Logout"),
        ("app sign-out confirmation", "/connect/endsession"),
        ("device code entry", "/connect/verify"),
        ("admin: users", "/Admin"),
        ("admin: new user", "/Admin/Users/Create"),
        ("admin: clients", "/Admin/Clients"),
        ("admin: new client", "/Admin/Clients/Create"),
        ("admin: client", "/Admin/Clients/demo-web"),
        ("admin: scopes", "/Admin/Scopes"),
        ("admin: scope", "/Admin/Scopes/demo-api"),
        ("admin: signing keys", "/Admin/Keys"),
        ("admin: security events", "/Admin/Events"),
    ];

    [BrowserFact]
    public async Task EveryPage_LightAndDark_HasNoSeriousOrCriticalWcagViolation()
    {
        await using var browser = await BrowserSession.OpenAsync(chromium.Browser, host.BaseAddress);
        var page = browser.Page;
        var problems = new List<string>();
        // Each page in the light and the dark colour scheme: the stylesheet follows the system's.
        async Task CheckAsync(string name)
        {
            foreach (var scheme in new[] { ColorScheme.Light, ColorScheme.Dark })
            {
                await page.EmulateMediaAsync(new() { ColorScheme = scheme });
                problems.AddRange(await AccessibilityCheck.ProblemsAsync(page, $"{name}, {scheme.ToString().ToLowerInvariant()}"));
                if (scheme == ColorScheme.Light)
                {
                    await DocsScreenshots.TakeAsync(page, name);
                }
            }
        }
        await VisitEveryPageAsync(browser, CheckAsync);

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    /// <summary>
    /// The same pages in German, chosen with the footer's language picker: no serious or critical
    /// WCAG violation (html lang included), and no English sentence left in the text, the titles or
    /// the labels read out by screen readers; the demo scope's German display name included. Left out
    /// of the search: the small print for developers (OAuth's own error descriptions stay English).
    /// </summary>
    [BrowserFact]
    public async Task EveryPage_InGerman_HasNoSeriousWcagViolationAndNoEnglishLeft()
    {
        await using var browser = await BrowserSession.OpenAsync(chromium.Browser, host.BaseAddress);
        var page = browser.Page;
        var problems = new List<string>();
        async Task CheckAsync(string name)
        {
            if (await page.Locator("html").GetAttributeAsync("lang") != "de")
            {
                problems.Add($"{name}: not in German");
            }
            problems.AddRange(await AccessibilityCheck.ProblemsAsync(page, name + ", German"));
            problems.AddRange((await page.EvaluateAsync<string[]>(TextsScript)).Where(static t => EnglishWord().IsMatch(t)).Select(t => $"{name}: English left: {t}"));
        }
        await page.GotoAsync(host.BaseAddress.AbsoluteUri);
        await page.SelectOptionAsync("#language-choice", "de");
        await page.Locator("#language-apply").ClickAsync();
        await page.Locator("html[lang='de']").WaitForAsync(new() { State = WaitForSelectorState.Attached });
        await VisitEveryPageAsync(browser, CheckAsync);

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    /// <summary>
    /// Opens every page the product has, signed out, then signed in through an application's request
    /// (the consent page on the way) as the demo admin, and runs <paramref name="check"/> on each.
    /// </summary>
    private async Task VisitEveryPageAsync(BrowserSession browser, Func<string, Task> check)
    {
        var page = browser.Page;
        async Task OpenAndCheckAsync(string name, string path)
        {
            await page.GotoAsync(new Uri(host.BaseAddress, path).AbsoluteUri);
            await check(name);
        }

        foreach (var (name, path) in SignedOutPages)
        {
            await OpenAndCheckAsync(name, path);
        }
        await page.GotoAsync(new Uri(host.BaseAddress, "/Account/Login").AbsoluteUri);
        await browser.Login.SignInAsync(DevelopmentSeed.UserName, "not-the-password");
        await browser.Login.Error.WaitForAsync();
        await check("sign-in, wrong password");

        await browser.StartAsync(AuthorizationRequest.Create() with { Prompt = "consent" });
        await browser.Login.WaitAsync();
        await browser.Login.SignInAsync(DevelopmentSeed.UserName, DevelopmentSeed.Password);
        await browser.Consent.WaitAsync();
        await check("consent");
        await browser.Consent.AllowAsync();
        await browser.WaitForClientCallbackAsync();
        foreach (var (name, path) in SignedInPages)
        {
            await OpenAndCheckAsync(name, path);
        }
        // The security events page (the last above) links the users its events name.
        var user = await page.Locator("a[href^='/Admin/Users/']:not([href$='/Create'])").First.GetAttributeAsync("href");
        await OpenAndCheckAsync("admin: user", user!);
        await OpenAndCheckAsync("admin: edit user", user + "/Edit");
    }

    /// <summary>The page's title, its text (hidden elements included) and the attributes people hear or see, minus developer small print.</summary>
    private const string TextsScript = """
        () => {
          const skip = (node) => node.parentElement && node.parentElement.closest('.fine-print, script, style, code');
          const texts = [document.title];
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          while (walker.nextNode()) {
            const text = walker.currentNode.textContent.trim();
            if (text && !skip(walker.currentNode)) texts.push(text);
          }
          for (const attribute of ['aria-label', 'title', 'placeholder', 'alt', 'data-cancelled', 'data-failed']) {
            for (const element of document.querySelectorAll('[' + attribute + ']')) texts.push(element.getAttribute(attribute));
          }
          return texts;
        }
        """;

    /// <summary>Words of the English pages that German ones do not use.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"\b(the|your|you|and|with|this|that|sign|signed|password|account|page|not|was|were|has|have|will|from|none|never|unknown|allowed|last|seen|session|sessions|remove|change|continue|cancel|allow|deny|search|users|roles|time|device|state|active|locked|edit|home|error|help|language)\b", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex EnglishWord();

    /// <summary>Every page checked above has its desktop and phone picture in docs/screenshots.</summary>
    [Fact]
    public void DocsScreenshots_EveryCheckedPage_HasADesktopAndAPhonePicture()
    {
        var pages = SignedOutPages.Concat(SignedInPages).Select(static p => p.Name)
            .Concat(["sign-in, wrong password", "consent", "admin: user", "admin: edit user"]);

        Assert.Empty(DocsScreenshots.Missing(pages));
    }

    [Fact]
    public void Contrast_IsTheWcagRatio()
    {
        Assert.Equal(21, AccessibilityCheck.Contrast((0, 0, 0), (1, 1, 1)), 2);
        Assert.Equal(4.54, AccessibilityCheck.Contrast((0x76 / 255.0, 0x76 / 255.0, 0x76 / 255.0), (1, 1, 1)), 2);
    }
}
