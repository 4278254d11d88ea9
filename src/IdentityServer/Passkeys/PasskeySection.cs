namespace IdentityServer.Passkeys;

/// <summary>
/// What the Passkeys section of the Security page shows (Pages/Account/_Passkeys.cshtml). Its forms
/// post to Account/Passkeys, which comes back here with <paramref name="Status"/> (the <c>passkey</c>
/// query parameter) saying what happened.
/// </summary>
internal sealed record PasskeySection(IReadOnlyList<PasskeyListItem> Passkeys, bool SignInIsFresh, int FreshSignInMinutes, string? Status)
{
    public const string Added = "added";
    public const string Renamed = "renamed";
    public const string Removed = "removed";
    public const string Failed = "failed";
    public const string NotFound = "not-found";

    /// <summary>The message for <see cref="Status"/>, and whether it is an error; null when there is none.</summary>
    public (string Text, bool IsError)? Message => Status switch
    {
        Added => ("Passkey added. Your other sessions were signed out.", false),
        Renamed => ("Passkey renamed.", false),
        Removed => ("Passkey removed. It can no longer be used to sign in, and your other sessions were signed out.", false),
        Failed => ("The passkey was not saved. Try again; if it keeps failing, your browser or device may not support passkeys.", true),
        NotFound => ("That passkey was not found. It may have been removed already.", true),
        _ => null,
    };
}
