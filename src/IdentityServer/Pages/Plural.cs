using System.Globalization;

namespace IdentityServer.Pages;

/// <summary>"1 user", "2 users": a count with the word that agrees with it.</summary>
public static class Plural
{
    public static string Of(long count, string one, string many) =>
        count.ToString("N0", CultureInfo.InvariantCulture) + " " + (count == 1 ? one : many);
}
