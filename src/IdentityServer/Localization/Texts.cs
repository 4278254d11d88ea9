using System.Globalization;
using System.Resources;

namespace IdentityServer.Localization;

/// <summary>
/// The texts of <see cref="SharedResource"/> for code that builds words outside a view (page
/// models' messages, mails, durations): in the current request's language, English when a text has
/// no translation. Views use the injected <c>T</c>, which reads the same resources.
/// </summary>
public static class Texts
{
    private static readonly ResourceManager Resources = new(typeof(SharedResource).FullName!, typeof(SharedResource).Assembly);

    public static string Get(string text) => Resources.GetString(text, CultureInfo.CurrentUICulture) ?? text;

    public static string Get(string format, params object?[] values) =>
        string.Format(CultureInfo.CurrentCulture, Get(format), values);

    /// <summary>What <paramref name="words"/> says in English, whatever the reader's language: for values that are stored.</summary>
    public static string InEnglish(Func<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        var reader = CultureInfo.CurrentUICulture;
        CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;
        try
        {
            return words();
        }
        finally
        {
            CultureInfo.CurrentUICulture = reader;
        }
    }

    /// <summary>"1 session", "2 sessions": the count in the reader's number format with the text that agrees with it.</summary>
    public static string Plural(long count, string one, string many) =>
        Get(count == 1 ? one : many, count.ToString("N0", CultureInfo.CurrentCulture));
}
