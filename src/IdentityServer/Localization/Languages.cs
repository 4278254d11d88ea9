using System.Collections.Frozen;
using System.Globalization;

namespace IdentityServer.Localization;

/// <summary>The languages the pages and mails are written in, each named in itself for the picker.</summary>
public static class Languages
{
    public const string Default = "en";

    /// <summary>Culture name and the language's own name, in the picker's order.</summary>
    public static IReadOnlyList<(string Culture, string Name)> Supported { get; } = [("en", "English"), ("de", "Deutsch")];

    private static readonly FrozenSet<string> Names = Supported.Select(static l => l.Culture).ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    public static IList<CultureInfo> Cultures { get; } = [.. Supported.Select(static l => CultureInfo.GetCultureInfo(l.Culture))];

    /// <summary>
    /// The supported language a BCP 47 tag asks for (<c>de-CH</c> and <c>DE</c> ask for <c>de</c>),
    /// or null; tags that are not well formed ask for nothing.
    /// </summary>
    public static string? Match(ReadOnlySpan<char> tag)
    {
        if (tag.IsEmpty || tag.Length > 35)
        {
            return null;
        }
        var dash = tag.IndexOf('-');
        var language = (dash < 0 ? tag : tag[..dash]).ToString();
        return Names.TryGetValue(language, out var name) ? name : null;
    }
}
