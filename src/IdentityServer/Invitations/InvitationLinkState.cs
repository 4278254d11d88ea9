namespace IdentityServer.Invitations;

/// <summary>The outcome of accepting an invitation.</summary>
internal enum InvitationLinkState
{
    /// <summary>The password was set (or, when only opened, the link is good).</summary>
    Valid,

    /// <summary>Expired, already used, replaced by a newer invitation, tampered with, or for no account.</summary>
    Invalid,
}
