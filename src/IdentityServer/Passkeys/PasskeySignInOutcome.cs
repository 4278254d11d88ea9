namespace IdentityServer.Passkeys;

/// <summary>What a passkey presented at the sign-in page came to.</summary>
internal enum PasskeySignInOutcome
{
    /// <summary>A passkey of the account, verified by its signature: the session may start.</summary>
    Succeeded,

    /// <summary>
    /// Refused: no ceremony was under way in this browser, or the answer was not a valid assertion
    /// (unknown or removed passkey, wrong origin or relying party, bad signature, malformed), or
    /// the account may not sign in.
    /// </summary>
    Failed,

    /// <summary>Refused: the account is locked.</summary>
    LockedOut,
}
