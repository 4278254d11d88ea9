namespace IdentityServer.Sessions;

/// <summary>
/// Turns a User-Agent header into a name a person recognises, such as "Chrome on Windows", in the
/// reader's language (pages describe a session from its stored User-Agent when they show it). Only
/// the browser family and operating system are read (no version, no fingerprinting); anything
/// unrecognised is "Unknown browser". No maintained .NET user-agent parser is available to this
/// project, and these few ordered rules cover the browsers people use.
/// </summary>
public static class DeviceNames
{
    // Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
    private static readonly (string Token, string Name)[] Browsers =
    [
        ("Edg/", "Edge"), ("EdgA/", "Edge"), ("EdgiOS/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser/", "Samsung Internet"),
        ("Firefox/", "Firefox"), ("FxiOS/", "Firefox"), ("CriOS/", "Chrome"), ("Chromium/", "Chromium"), ("Chrome/", "Chrome"),
        ("Safari/", "Safari"), ("curl/", "curl"), ("PostmanRuntime/", "Postman"), ("python-requests/", "Python"),
    ];

    private static readonly (string Token, string Name)[] Systems =
    [
        ("Windows", "Windows"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Android", "Android"), ("CrOS", "ChromeOS"),
        ("Mac OS X", "macOS"), ("Macintosh", "macOS"), ("Linux", "Linux"),
    ];

    public static string Describe(string? userAgent)
    {
        if (string.IsNullOrWhiteSpace(userAgent))
        {
            return Localization.Texts.Get("Unknown device");
        }
        var browser = Browsers.FirstOrDefault(b => userAgent.Contains(b.Token, StringComparison.Ordinal)).Name;
        if (browser == "Chrome" && userAgent.Contains("HeadlessChrome/", StringComparison.Ordinal))
        {
            browser = "Headless Chrome";
        }
        var system = Systems.FirstOrDefault(s => userAgent.Contains(s.Token, StringComparison.Ordinal)).Name;
        return (browser, system) switch
        {
            (null, null) => Localization.Texts.Get("Unknown browser"),
            (not null, null) => browser,
            (null, not null) => Localization.Texts.Get("Unknown browser on {0}", system),
            _ => Localization.Texts.Get("{0} on {1}", browser, system),
        };
    }
}
