namespace IdentityServer.Account;

/// <summary>
/// What a sign-in step needs of an account, read without tracking in one query: the lockout state
/// (which every conditional update of <see cref="AccountLockout"/> compares), the password hash, and
/// the second-factor state (<see cref="TwoFactorEnabled"/>, the time step of the last authenticator
/// code accepted, the security stamp the two steps of one sign-in must share).
/// </summary>
internal sealed record LockoutState(
    bool LockoutEnabled,
    DateTimeOffset? LockoutEnd,
    int AccessFailedCount,
    string? PasswordHash,
    bool TwoFactorEnabled,
    long? AuthenticatorTimeStep,
    string? SecurityStamp)
{
    /// <summary>As Identity's <c>IsLockedOutAsync</c>: an end at or after now locks, where lockout is enabled.</summary>
    public bool IsLockedOut(DateTimeOffset now) => LockoutEnabled && LockoutEnd >= now;
}
