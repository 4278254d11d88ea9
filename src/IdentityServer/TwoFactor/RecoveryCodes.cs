namespace IdentityServer.TwoFactor;

/// <summary>Recovery codes as Identity makes them: ten characters in two groups of five, "XXXXX-XXXXX".</summary>
internal static class RecoveryCodes
{
    /// <summary>How many a user gets at a time.</summary>
    public const int Count = 10;

    /// <summary>
    /// The code as Identity stored it, from what was typed: any case, spaces, the dash left out;
    /// null for anything that cannot be a recovery code (so an empty or odd value never reaches the store).
    /// </summary>
    public static string? Normalize(string? input)
    {
        if (input is null || input.Length > 32)
        {
            return null;
        }
        var text = new string([.. input.Where(static c => !char.IsWhiteSpace(c) && c != '-')]).ToUpperInvariant();
        return text.Length == 10 && text.All(char.IsAsciiLetterOrDigit) ? string.Concat(text.AsSpan(0, 5), "-", text.AsSpan(5)) : null;
    }
}
