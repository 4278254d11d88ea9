namespace IdentityServer.TwoFactor;

/// <summary>What a code at the second sign-in step came to.</summary>
internal enum SecondFactorOutcome
{
    /// <summary>A right, unused code: the failure count was reset and the sign-in may complete.</summary>
    Succeeded,

    /// <summary>A wrong (or used) code, counted towards the lockout.</summary>
    Failed,

    /// <summary>A wrong code that reached the limit: it locked the account.</summary>
    FailedAndLocked,

    /// <summary>Refused because the account is locked: not counted, no code accepted.</summary>
    LockedOut,

    /// <summary>
    /// The account changed since the password was checked (password, second factor or account
    /// gone): not counted; the user starts again with the password.
    /// </summary>
    Expired,
}
