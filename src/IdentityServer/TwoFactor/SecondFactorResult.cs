using IdentityServer.Account;
using IdentityServer.Data;

namespace IdentityServer.TwoFactor;

/// <summary>
/// The outcome of a code at the second step. <paramref name="Failure"/> says, for the audit trail
/// only, what was wrong (<c>wrong_code</c>, <c>replayed_code</c>, <c>wrong_recovery_code</c>);
/// <paramref name="RecoveryCodesLeft"/> is set when a recovery code was used up;
/// <paramref name="User"/> is the account as loaded after the check.
/// </summary>
internal sealed record SecondFactorResult(SecondFactorOutcome Outcome, ApplicationUser User, string? Failure = null, int? RecoveryCodesLeft = null)
{
    /// <summary>The session's <c>amr</c>: a password and an authenticator code, or a password and a recovery code (RFC 8176).</summary>
    public IReadOnlyList<string> Methods => RecoveryCodesLeft is null
        ? [AuthenticationMethods.Password, AuthenticationMethods.OneTimePassword, AuthenticationMethods.MultiFactor]
        : [AuthenticationMethods.Password, AuthenticationMethods.MultiFactor];
}
