using System.Net;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Pages;

/// <summary>
/// Pages in English and German: the language comes from the person's pick (a cookie), then the
/// application's ui_locales, then Accept-Language, then English; and every text of the pages and
/// mails is in both resource files.
/// </summary>
public sealed partial class LanguageTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    private static readonly string Resources = Repository.File("src", "IdentityServer", "Localization");

    [Fact]
    public void Resources_EveryTextThePagesAndMailsUse_IsInEnglishAndGermanWithTheSamePlaceholdersAndMarkup()
    {
        var english = Read("SharedResource.resx");
        var german = Read("SharedResource.de.resx");

        var used = UsedTexts();
        Assert.True(used.Count > 400, $"Only {used.Count} texts found in the sources: the scan is broken.");
        var missing = used.Where(text => !english.ContainsKey(text)).ToList();
        Assert.True(missing.Count == 0, "Not in SharedResource.resx: " + string.Join(" | ", missing));
        Assert.Equal(english.Keys.Order(StringComparer.Ordinal), german.Keys.Order(StringComparer.Ordinal));
        // Resource names are looked up without regard to case: "Active" and "active" would be one text.
        Assert.Empty(english.Keys.GroupBy(static k => k, StringComparer.OrdinalIgnoreCase).Where(static g => g.Count() > 1).Select(static g => g.Key));
        foreach (var (key, value) in english)
        {
            Assert.Equal(key, value);
            var translation = german[key];
            Assert.False(string.IsNullOrWhiteSpace(translation), key);
            Assert.Equal(Placeholders(key), Placeholders(translation));
            Assert.Equal(Tags(key), Tags(translation));
        }
    }

    /// <summary>
    /// No page model hands a page a message as a bare literal: every message goes through Texts.Get
    /// (validation attributes' ErrorMessage is translated by the framework, so it may stay a literal).
    /// </summary>
    [Fact]
    public void PageModels_EveryMessageForThePage_GoesThroughTheResources()
    {
        var root = Repository.File("src", "IdentityServer", "Pages");
        var bare = Directory.EnumerateFiles(root, "*.cshtml.cs", SearchOption.AllDirectories)
            .SelectMany(static file => File.ReadLines(file).Select((line, i) => (file, line, number: i + 1)))
            .Where(static l => !l.line.TrimStart().StartsWith('[') && BareMessage().IsMatch(l.line))
            .Select(static l => $"{Path.GetFileName(l.file)}:{l.number}: {l.line.Trim()}")
            .ToList();

        Assert.True(bare.Count == 0, "Messages not in the resources:\n" + string.Join('\n', bare));
    }

    /// <summary>The texts of ASP.NET Core Identity that LocalizedIdentityErrors translates as they are are in the resources, word for word.</summary>
    [Fact]
    public void Resources_IdentitysOwnTexts_AreKeysWordForWord()
    {
        var english = Read("SharedResource.resx");
        var identity = new Microsoft.AspNetCore.Identity.IdentityErrorDescriber();

        string[] texts =
        [
            identity.DefaultError().Description, identity.ConcurrencyFailure().Description, identity.PasswordMismatch().Description,
            identity.InvalidToken().Description, identity.UserAlreadyHasPassword().Description, identity.RecoveryCodeRedemptionFailed().Description,
            identity.PasswordRequiresNonAlphanumeric().Description, identity.PasswordRequiresDigit().Description,
            identity.PasswordRequiresLower().Description, identity.PasswordRequiresUpper().Description,
        ];

        Assert.All(texts, text => Assert.True(english.ContainsKey(text), text));
    }

    [Fact]
    public async Task ContentLanguage_PagesSayTheirLanguage_TheAdminApiIsLeftInEnglish()
    {
        using var client = factory.CreateOidcClient();
        var token = await Admin.AdminTestHelpers.AdminTokenAsync(client);
        using var page = new HttpRequestMessage(HttpMethod.Get, "/Account/Login");
        page.Headers.TryAddWithoutValidation("Accept-Language", "de");
        using var api = new HttpRequestMessage(HttpMethod.Get, "/api/admin/users");
        api.Headers.TryAddWithoutValidation("Accept-Language", "de");
        api.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);

        using var pageResponse = await client.Http.SendAsync(page);
        using var apiResponse = await client.Http.SendAsync(api);

        Assert.Equal(["de"], pageResponse.Content.Headers.ContentLanguage);
        Assert.Equal(HttpStatusCode.OK, apiResponse.StatusCode);
        Assert.Empty(apiResponse.Content.Headers.ContentLanguage);
    }

    [Theory]
    [InlineData(null, null, "en", "Sign in")]
    [InlineData(null, "de-DE,de;q=0.9,en;q=0.5", "de", "Anmelden")]
    [InlineData(null, "fr-FR, fr", "en", "Sign in")]
    [InlineData("fr-CA de", null, "de", "Anmelden")]
    [InlineData("en", "de", "en", "Sign in")]
    [InlineData("tlh", "de", "de", "Anmelden")]
    public async Task Login_UiLocalesOfTheAuthorizationRequestThenAcceptLanguage_ChooseTheLanguage(string? uiLocales, string? acceptLanguage, string lang, string heading)
    {
        using var client = factory.CreateOidcClient();
        var returnUrl = "/connect/authorize?client_id=" + TestSeed.WebClientId + (uiLocales is null ? "" : "&ui_locales=" + Uri.EscapeDataString(uiLocales));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/Account/Login?ReturnUrl=" + Uri.EscapeDataString(returnUrl));
        if (acceptLanguage is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Language", acceptLanguage);
        }

        using var response = await client.Http.SendAsync(request);

        var page = await OidcTestClient.ParseAsync(response);
        Assert.Equal(lang, page.DocumentElement.GetAttribute("lang"));
        Assert.Equal(heading, page.QuerySelector("h1")!.TextContent);
    }

    [Fact]
    public async Task Consent_InGerman_ShowsTheGermanNamesOfTheAppAndScopeRegisteredInTheSeed_AndTheAppsWebsite()
    {
        using var client = factory.CreateOidcClient();
        var parameters = OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid " + TestSeed.ApiScope, Pkce.Create());
        parameters["ui_locales"] = "de";
        parameters["prompt"] = "consent";

        using var login = await client.FollowLocalRedirectsAsync(await client.GetAuthorizeAsync(parameters));
        using var consent = await client.SignInAsync(login, TestSeed.UserName, TestSeed.UserPassword);

        var page = await OidcTestClient.ParseAsync(consent);
        Assert.Equal("de", page.DocumentElement.GetAttribute("lang"));
        Assert.Equal("Zugriff erlauben?", page.QuerySelector("h1")!.TextContent);
        Assert.Equal("Laden", page.QuerySelector("#client-name")!.TextContent);
        Assert.Equal("Bestell-API", page.QuerySelector($"li[data-scope={TestSeed.ApiScope}]")!.TextContent);
        Assert.Equal("Sie anmelden", page.QuerySelector("li[data-scope=openid]")!.TextContent);
        var website = page.QuerySelector("#client-uri")!;
        Assert.Equal("https://shop.example/", website.GetAttribute("href"));
        Assert.Equal("noopener noreferrer", website.GetAttribute("rel"));
    }

    [Fact]
    public async Task Picker_RemembersTheChoiceInACookie_WhichOutranksUiLocalesAndAcceptLanguage()
    {
        using var client = factory.CreateOidcClient();
        using var home = await client.Http.GetAsync(new Uri("/", UriKind.Relative));

        using var picked = await PickAsync(client, home, "de", "/Account/Login");

        Assert.Equal(HttpStatusCode.Redirect, picked.StatusCode);
        Assert.Equal("/Account/Login", picked.Headers.Location!.OriginalString);
        var cookie = picked.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("idp.language=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/Account/Login?ReturnUrl=" + Uri.EscapeDataString("/connect/authorize?ui_locales=en"));
        request.Headers.TryAddWithoutValidation("Accept-Language", "en");
        using var login = await client.Http.SendAsync(request);
        var page = await OidcTestClient.ParseAsync(login);
        Assert.Equal("de", page.DocumentElement.GetAttribute("lang"));
        Assert.Equal("Benutzername oder E-Mail", page.QuerySelector("label")!.FirstChild!.TextContent.Trim());
        Assert.Equal("selected", page.QuerySelector("#language-choice option[value=de]")!.GetAttribute("selected"));
    }

    [Theory]
    [InlineData("https://evil.example/", "/")]
    [InlineData("//evil.example/", "/")]
    [InlineData("/Account/Sessions?x=1", "/Account/Sessions?x=1")]
    public async Task Picker_GoesBackOnlyToAPageOfThisServer(string returnUrl, string expected)
    {
        using var client = factory.CreateOidcClient();
        using var home = await client.Http.GetAsync(new Uri("/", UriKind.Relative));

        using var picked = await PickAsync(client, home, "en", returnUrl);

        Assert.Equal(HttpStatusCode.Redirect, picked.StatusCode);
        Assert.Equal(expected, picked.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Picker_ALanguageWeDoNotHave_SetsNoCookie()
    {
        using var client = factory.CreateOidcClient();
        using var home = await client.Http.GetAsync(new Uri("/", UriKind.Relative));

        using var picked = await PickAsync(client, home, "xx", "/");

        Assert.Equal(HttpStatusCode.Redirect, picked.StatusCode);
        Assert.DoesNotContain(picked.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [], c => c.StartsWith("idp.language=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ErrorPage_InGerman_SaysItInGermanAndKeepsTheCodeAsIs()
    {
        using var client = factory.CreateOidcClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/Account/NoSuchPage");
        request.Headers.TryAddWithoutValidation("Accept-Language", "de");

        using var response = await client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var page = await OidcTestClient.ParseAsync(response);
        Assert.Equal("Seite nicht gefunden", page.QuerySelector("#error-title")!.TextContent);
        Assert.Equal("not_found", page.QuerySelector("#error-code")!.TextContent);
        Assert.Equal("Fehler · Identity Provider", page.Title);
    }

    private static async Task<HttpResponseMessage> PickAsync(OidcTestClient client, HttpResponseMessage page, string culture, string returnUrl)
    {
        var document = await OidcTestClient.ParseAsync(page);
        var form = document.QuerySelector("form#language-picker")!;
        var token = form.QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        return await client.Http.PostAsync(new Uri(form.GetAttribute("action")!, UriKind.Relative), new FormUrlEncodedContent(
            [new("__RequestVerificationToken", token), new("culture", culture), new("returnUrl", returnUrl)]));
    }

    private static Dictionary<string, string> Read(string file) =>
        XDocument.Load(Path.Combine(Resources, file)).Root!.Elements("data")
            .ToDictionary(static d => (string)d.Attribute("name")!, static d => (string)d.Element("value")!, StringComparer.Ordinal);

    /// <summary>Every literal the pages and C# code pass to T[...], H[...], Texts.Get, Texts.Plural and validation attributes of page models.</summary>
    private static HashSet<string> UsedTexts()
    {
        var root = Repository.File("src", "IdentityServer");
        var texts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(root, "*.*", SearchOption.AllDirectories)
            .Where(static f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".cshtml", StringComparison.Ordinal))
            .Where(static f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var code = string.Join('\n', File.ReadLines(file).Where(static l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal) && !l.TrimStart().StartsWith("@*", StringComparison.Ordinal)));
            var inPages = file.Contains($"{Path.DirectorySeparatorChar}Pages{Path.DirectorySeparatorChar}", StringComparison.Ordinal);
            foreach (Match match in Uses().Matches(code))
            {
                if (match.Groups["attr"].Success && !inPages)
                {
                    continue;
                }
                foreach (var group in new[] { "text", "other" })
                {
                    if (match.Groups[group].Success)
                    {
                        texts.Add(match.Groups[group].Value.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal));
                    }
                }
            }
        }
        return texts;
    }

    private static string[] Placeholders(string text) => [.. PlaceholderPattern().Matches(text).Select(static m => m.Value).Order(StringComparer.Ordinal)];

    private static string[] Tags(string text) => [.. TagPattern().Matches(text).Select(static m => m.Value).Order(StringComparer.Ordinal)];

    [GeneratedRegex("""(?:\b[TH]\[|Texts\.Get\(|Texts\.Plural\(.*?,\s*|(?<attr>ErrorMessage\s*=\s*))"(?<text>(?:[^"\\]|\\.)*)"(?:,\s*"(?<other>(?:[^"\\]|\\.)*)"\))?""")]
    private static partial Regex Uses();

    [GeneratedRegex("""\b(Message|ErrorMessage|Problem|Error|Errors)\s*\??\??=\s*\[?\$?"|\b(Show|Back|Answer)\(\$?"|(\?\?|:)\s*\[?\$?"[A-Z][a-z]+ [a-z]""")]
    private static partial Regex BareMessage();

    [GeneratedRegex(@"\{\d+\}")]
    private static partial Regex PlaceholderPattern();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex TagPattern();
}
