using IdentityServer.Account;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Observability;
using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Passkeys;

/// <summary>
/// Checks a passkey presented at the sign-in page with Identity's passkey handler: the challenge it
/// signed is the one Identity issued to this browser (kept in its data-protected two-factor cookie,
/// used once), the origin and relying party are ours, the user was verified (PIN or biometric), and
/// the signature matches a passkey stored for the account its user handle names. The session itself
/// is started by <see cref="SessionSignIn"/>, as for every other way of signing in. Refusals are
/// recorded here (metrics, audit), each with one detail for the audit trail only.
/// </summary>
internal sealed partial class PasskeySignIn(
    SignInManager<ApplicationUser> signIn,
    UserManager<ApplicationUser> users,
    AuditLog audit,
    IdentityServerMetrics metrics,
    ILogger<PasskeySignIn> logger)
{
    /// <summary>
    /// Far above a real credential (a few hundred bytes of JSON), within the form limits; longer
    /// input is refused without parsing.
    /// </summary>
    public const int MaxCredentialLength = 16 * 1024;

    /// <summary>
    /// RFC 8176: proof of possession of a key (<c>hwk</c>), with user verification required, so the
    /// key and the PIN or biometric unlocking it are two factors (<c>mfa</c>). No second step follows.
    /// </summary>
    public static IReadOnlyList<string> Methods { get; } = [AuthenticationMethods.HardwareKey, AuthenticationMethods.MultiFactor];

    /// <param name="credentialJson">What <c>navigator.credentials.get()</c> returned, as JSON.</param>
    /// <param name="cancellationToken">Not the request's: a refusal is recorded even when the client hangs up.</param>
    public async Task<PasskeySignInResult> CheckAsync(string? credentialJson, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(credentialJson) || credentialJson.Length > MaxCredentialLength)
        {
            return await RefuseAsync(null, "passkey_malformed", cancellationToken);
        }
        PasskeyAssertionResult<ApplicationUser> assertion;
        try
        {
            assertion = await signIn.PerformPasskeyAssertionAsync(credentialJson);
        }
        catch (InvalidOperationException)
        {
            // Identity's way of saying no challenge is pending in this browser: never asked for,
            // expired with its cookie, already used, or a creation (not sign-in) ceremony.
            return await RefuseAsync(null, "passkey_no_challenge", cancellationToken);
        }
        if (!assertion.Succeeded)
        {
            LogRefused(logger, assertion.Failure.Message);
            return await RefuseAsync(null, "passkey_invalid", cancellationToken);
        }

        var user = assertion.User;
        if (!await signIn.CanSignInAsync(user))
        {
            return await RefuseAsync(user, "not_allowed", cancellationToken);
        }
        // Only an administrator's lock. The lockout after failed sign-ins stops guessing, and a
        // passkey cannot be guessed: honouring it would let anyone who knows a user name keep its
        // owner out by typing five wrong passwords every fifteen minutes.
        if (user.LockoutEnd == DateTimeOffset.MaxValue)
        {
            metrics.SignIn(SignInResultTag.LockedOut);
            await audit.RecordAsync(SecurityEventTypes.LockedOut, user.Id, user.UserName, detail: "passkey", cancellationToken: cancellationToken);
            return new PasskeySignInResult(PasskeySignInOutcome.LockedOut);
        }
        // The new signature count (and backup state): an older count presented later, as a cloned
        // authenticator would, is then refused by the handler.
        if (!(await users.AddOrUpdatePasskeyAsync(user, assertion.Passkey)).Succeeded)
        {
            return await RefuseAsync(user, "passkey_not_saved", cancellationToken);
        }
        return new PasskeySignInResult(PasskeySignInOutcome.Succeeded, user);
    }

    private async Task<PasskeySignInResult> RefuseAsync(ApplicationUser? user, string detail, CancellationToken cancellationToken)
    {
        metrics.SignIn(SignInResultTag.Failed);
        await audit.RecordAsync(SecurityEventTypes.SignInFailed, user?.Id, user?.UserName, detail: detail, cancellationToken: cancellationToken);
        return new PasskeySignInResult(PasskeySignInOutcome.Failed);
    }

    /// <summary>Why, for operators: the user only learns that it did not work. Identity's messages name no secret.</summary>
    [LoggerMessage(EventId = 4301, Level = LogLevel.Information, Message = "A passkey sign-in was refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);
}
