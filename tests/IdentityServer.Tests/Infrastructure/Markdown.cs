namespace IdentityServer.Tests.Infrastructure;

/// <summary>Reads the commands out of the docs, so that tests run what a reader is told to run.</summary>
internal static class Markdown
{
    /// <summary>The fenced bash block of <paramref name="markdown"/> that contains <paramref name="marker"/>.</summary>
    public static string BashBlock(string markdown, string marker)
    {
        var pieces = markdown.Split("```");
        // Odd pieces are the insides of fences; each starts with its language.
        var block = pieces.Where(static (_, i) => i % 2 == 1)
            .FirstOrDefault(p => p.StartsWith("bash\n", StringComparison.Ordinal) && p.Contains(marker, StringComparison.Ordinal));
        return block?["bash\n".Length..] ?? throw new InvalidOperationException($"No bash block with '{marker}'.");
    }
}
