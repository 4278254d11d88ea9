using IdentityServer.Account;

namespace IdentityServer.StepUp;

/// <summary>
/// The <c>acr</c> values this server supports, weakest first: one factor (<see cref="Password"/>),
/// two factors (<see cref="MultiFactor"/>), a phishing-resistant factor (<see cref="PhishingResistant"/>,
/// OpenID "EAP ACR Values 1.0": a passkey). A session's level follows from its <c>amr</c> alone, so
/// the session row, its cookie and the tokens issued in it never disagree about it.
/// </summary>
internal static class AuthenticationLevels
{
    public const string Password = "pwd";

    public const string MultiFactor = "mfa";

    public const string PhishingResistant = "phr";

    /// <summary>Weakest first: the discovery document's <c>acr_values_supported</c>, in that order.</summary>
    public static IReadOnlyList<string> Supported { get; } = [Password, MultiFactor, PhishingResistant];

    /// <summary>
    /// The level a session with these <c>amr</c> values reaches: a hardware-bound key (a passkey,
    /// <c>hwk</c>) is phishing-resistant; any other pair of factors (<c>mfa</c>) is two factors;
    /// anything else counts as one.
    /// </summary>
    public static string Of(IEnumerable<string> methods)
    {
        ArgumentNullException.ThrowIfNull(methods);
        var set = methods.ToHashSet(StringComparer.Ordinal);
        return set.Contains(AuthenticationMethods.HardwareKey) ? PhishingResistant
            : set.Contains(AuthenticationMethods.MultiFactor) ? MultiFactor
            : Password;
    }

    /// <summary>Whether <paramref name="level"/> is at least <paramref name="required"/> (both supported values).</summary>
    public static bool Reaches(string level, string required) => Rank(level) >= Rank(required);

    /// <summary>The stronger of two supported values.</summary>
    public static string Stronger(string a, string b) => Rank(a) >= Rank(b) ? a : b;

    /// <summary>
    /// OpenID Connect Core 3.1.2.1: acr_values lists the values the client wants in order of
    /// preference, and is voluntary. The first one this server supports; unknown values are
    /// ignored, and none supported asks for nothing.
    /// </summary>
    public static string? FirstSupported(IEnumerable<string> requested) =>
        requested.FirstOrDefault(static value => Supported.Contains(value, StringComparer.Ordinal));

    private static int Rank(string level) => level switch
    {
        PhishingResistant => 2,
        MultiFactor => 1,
        _ => 0,
    };
}
