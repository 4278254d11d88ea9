namespace IdentityServer.Account;

/// <summary>What a password-reset link is worth when it is opened or used.</summary>
internal enum ResetLinkState
{
    Valid,

    /// <summary>Expired, already used (the password changed since), tampered with, or for no account.</summary>
    Invalid,

    /// <summary>A good link to an account an administrator has locked: its password cannot be reset.</summary>
    LockedByAdministrator,
}
