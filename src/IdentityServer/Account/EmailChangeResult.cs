namespace IdentityServer.Account;

/// <summary>What following a change-of-address link came to.</summary>
internal enum EmailChangeResult
{
    Changed,

    /// <summary>Expired, already used, tampered with, or for no account.</summary>
    InvalidLink,

    /// <summary>Another account took the address after the link was sent.</summary>
    AddressInUse,
}
