namespace IdentityServer.Passkeys;

/// <summary>What adding, renaming or removing a passkey came to.</summary>
internal enum PasskeyChangeResult
{
    Done,

    /// <summary>The browser's answer was not a valid new passkey for this account (or no ceremony was under way); nothing changed.</summary>
    Failed,

    /// <summary>The account has no passkey with that id (removed meanwhile, or another account's); nothing changed.</summary>
    NotFound,
}
