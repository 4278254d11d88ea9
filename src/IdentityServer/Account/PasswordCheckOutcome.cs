namespace IdentityServer.Account;

/// <summary>What a sign-in attempt (a password, or a second-factor code) came to, as far as lockout is concerned.</summary>
internal enum PasswordCheckOutcome
{
    /// <summary>The right password; the failure count was reset.</summary>
    Succeeded,

    /// <summary>A wrong password, counted towards the lockout.</summary>
    Failed,

    /// <summary>A wrong password that reached the limit: it locked the account (and reset the count).</summary>
    FailedAndLocked,

    /// <summary>Refused because the account is locked: not counted, and no password was accepted.</summary>
    LockedOut,

    /// <summary>Identity does not allow this account to sign in (an unconfirmed account where confirmation is required).</summary>
    NotAllowed,
}
