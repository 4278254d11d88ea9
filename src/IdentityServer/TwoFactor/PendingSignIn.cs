using IdentityServer.Data;

namespace IdentityServer.TwoFactor;

/// <summary>
/// A sign-in between its two steps: the account whose password was right, the security stamp it
/// had then (the second step refuses to complete if it changed), and the "Remember me" choice.
/// </summary>
internal sealed record PendingSignIn(ApplicationUser User, string SecurityStamp, bool Remember);
