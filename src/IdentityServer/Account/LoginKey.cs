namespace IdentityServer.Account;

/// <summary>
/// One key per login typed into the sign-in form, as Identity's default normaliser would make it
/// (Unicode-normalised, upper invariant): "Alice", "alice " and "ALICE" count as one name.
/// </summary>
internal static class LoginKey
{
    public static string Normalize(string login) => login.Trim().Normalize().ToUpperInvariant();
}
