namespace IdentityServer.Tests.Infrastructure;

/// <summary>Reads the commands out of the docs, so that tests run what a reader is told to run.</summary>
internal static class Markdown
{
    /// <summary>The fenced bash block of <paramref name="markdown"/> that contains <paramref name="marker"/>.</summary>
    public static string BashBlock(string markdown, string marker) => Block(markdown, "bash", marker);

    /// <summary>The fenced block in <paramref name="language"/> of <paramref name="markdown"/> that contains <paramref name="marker"/>.</summary>
    public static string Block(string markdown, string language, string marker)
    {
        var pieces = markdown.Split("```");
        // Odd pieces are the insides of fences; each starts with its language.
        var block = pieces.Where(static (_, i) => i % 2 == 1)
            .FirstOrDefault(p => p.StartsWith(language + "\n", StringComparison.Ordinal) && p.Contains(marker, StringComparison.Ordinal));
        return block?[(language.Length + 1)..] ?? throw new InvalidOperationException($"No {language} block with '{marker}'.");
    }
}
