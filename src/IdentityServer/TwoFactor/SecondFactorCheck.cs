using IdentityServer.Account;
using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.TwoFactor;

/// <summary>
/// Checks an authenticator code or a recovery code, counting wrong ones towards the same lockout
/// as wrong passwords, exactly under concurrency (<see cref="AccountLockout"/>), and refusing a code
/// whose time step is not newer than the last one accepted for the account (RFC 6238 5.2: a code
/// seen by someone else, a phishing page or over a shoulder, cannot be used again).
/// <list type="bullet">
/// <item>An authenticator code succeeds by one conditional UPDATE that records its time step and
/// resets the count, only while the lockout state is the one read, the step is newer than the one
/// stored and the security stamp is the one the password step saw. Of two requests with the same
/// code, on any node, one updates and the other finds the step used: a failure.</item>
/// <item>A recovery code is redeemed by Identity, which removes it and saves the account (with the
/// count reset) in one save guarded by the account's concurrency stamp. Every lockout write
/// changes that stamp, so the redemption applies only if nothing was written since the account was
/// read unlocked; otherwise it is tried again on a fresh read.</item>
/// </list>
/// </summary>
internal sealed class SecondFactorCheck(
    AccountLockout lockout,
    AuthenticatorCodes codes,
    UserManager<ApplicationUser> users,
    ApplicationDbContext database)
{
    private const string WrongCode = "wrong_code";
    private const string ReplayedCode = "replayed_code";
    private const string WrongRecoveryCode = "wrong_recovery_code";

    /// <summary>
    /// The second sign-in step: an authenticator code or a recovery code for an account with the
    /// authenticator on, whose security stamp is still <paramref name="securityStamp"/>.
    /// </summary>
    public async Task<SecondFactorResult> CheckSignInAsync(ApplicationUser user, string securityStamp, string? input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (await ReadAsync(user, securityStamp, cancellationToken) is not { } state)
        {
            return new(SecondFactorOutcome.Expired, user);
        }
        if (state.IsLockedOut(lockout.Now))
        {
            return new(SecondFactorOutcome.LockedOut, user);
        }
        if (AuthenticatorCodes.Normalize(input) is { } code)
        {
            return await CheckCodeAsync(user, state, code, cancellationToken);
        }
        if (RecoveryCodes.Normalize(input) is { } recoveryCode)
        {
            return await RedeemAsync(user.Id, securityStamp, recoveryCode, cancellationToken);
        }
        return await FailAsync(user, state, WrongCode, cancellationToken);
    }

    /// <summary>
    /// A current authenticator code from a signed-in user who has the authenticator on (new recovery
    /// codes need one): checked, counted and used up like one at the second sign-in step.
    /// </summary>
    public async Task<SecondFactorResult> CheckCodeAsync(ApplicationUser user, string? input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (await lockout.ReadAsync(user.Id, cancellationToken) is not { TwoFactorEnabled: true } state)
        {
            return new(SecondFactorOutcome.Expired, user);
        }
        if (state.IsLockedOut(lockout.Now))
        {
            return new(SecondFactorOutcome.LockedOut, user);
        }
        return AuthenticatorCodes.Normalize(input) is { } code
            ? await CheckCodeAsync(user, state, code, cancellationToken)
            : await FailAsync(user, state, WrongCode, cancellationToken);
    }

    /// <summary>
    /// The code that confirms a new authenticator: right for the key being set up, and used up like
    /// any other (so it cannot sign in a minute later). Not counted towards the lockout: the key is
    /// not in use yet, and the user is signed in.
    /// </summary>
    public async Task<bool> ConfirmEnrolmentAsync(ApplicationUser user, string? input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (AuthenticatorCodes.Normalize(input) is not { } code || await codes.VerifyAsync(user, code) is not { } step)
        {
            return false;
        }
        var stamp = Guid.NewGuid().ToString();
        return await database.Users.Where(u => u.Id == user.Id && (u.AuthenticatorTimeStep == null || u.AuthenticatorTimeStep < step))
            .ExecuteUpdateAsync(setters => setters
                .SetProperty(u => u.AuthenticatorTimeStep, step)
                .SetProperty(u => u.ConcurrencyStamp, stamp), cancellationToken) > 0;
    }

    private async Task<LockoutState?> ReadAsync(ApplicationUser user, string securityStamp, CancellationToken cancellationToken) =>
        await lockout.ReadAsync(user.Id, cancellationToken) is { TwoFactorEnabled: true } state && state.SecurityStamp == securityStamp ? state : null;

    private async Task<SecondFactorResult> CheckCodeAsync(ApplicationUser user, LockoutState state, string code, CancellationToken cancellationToken)
    {
        if (await codes.VerifyAsync(user, code) is not { } step)
        {
            return await FailAsync(user, state, WrongCode, cancellationToken);
        }
        var securityStamp = state.SecurityStamp;
        for (var round = 0; round < AccountLockout.MaxRounds; round++)
        {
            if (state.AuthenticatorTimeStep >= step)
            {
                return await FailAsync(user, state, ReplayedCode, cancellationToken);
            }
            var used = await lockout.UpdateIfUnchangedAsync(user.Id, state,
                u => u.SecurityStamp == securityStamp && (u.AuthenticatorTimeStep == null || u.AuthenticatorTimeStep < step),
                setters => setters.SetProperty(u => u.AccessFailedCount, 0).SetProperty(u => u.AuthenticatorTimeStep, step),
                cancellationToken);
            if (used)
            {
                return new(SecondFactorOutcome.Succeeded, user);
            }
            var current = await lockout.ReadAsync(user.Id, cancellationToken);
            if (lockout.Settles(current, out var outcome))
            {
                return new(Map(outcome), user);
            }
            if (current.SecurityStamp != securityStamp || !current.TwoFactorEnabled)
            {
                return new(SecondFactorOutcome.Expired, user);
            }
            state = current;
        }
        return new(Map(lockout.GiveUp(user.Id)), user);
    }

    private async Task<SecondFactorResult> RedeemAsync(string userId, string securityStamp, string code, CancellationToken cancellationToken)
    {
        for (var round = 0; round < AccountLockout.MaxRounds; round++)
        {
            // A fresh account, and a fresh recovery-code row: a failed save leaves both modified in the unit of work.
            var user = await FreshAsync(userId);
            if (user is null || user.SecurityStamp != securityStamp || !user.TwoFactorEnabled)
            {
                return new(SecondFactorOutcome.Expired, user ?? new ApplicationUser { Id = userId });
            }
            if (user.LockoutEnabled && user.LockoutEnd >= lockout.Now)
            {
                return new(SecondFactorOutcome.LockedOut, user);
            }
            // Saved with the redemption, or not at all.
            user.AccessFailedCount = 0;
            var result = await users.RedeemTwoFactorRecoveryCodeAsync(user, code);
            if (result.Succeeded)
            {
                return new(SecondFactorOutcome.Succeeded, user, RecoveryCodesLeft: await users.CountRecoveryCodesAsync(user));
            }
            if (!IsConcurrencyFailure(result))
            {
                // Not one of the codes: counted like any wrong code, against the state as it is now.
                var unchanged = await FreshAsync(userId);
                return unchanged is not null && await lockout.ReadAsync(userId, cancellationToken) is { } state
                    ? await FailAsync(unchanged, state, WrongRecoveryCode, cancellationToken)
                    : new(SecondFactorOutcome.Expired, user);
            }
        }
        return new(Map(lockout.GiveUp(userId)), new ApplicationUser { Id = userId });
    }

    private async Task<SecondFactorResult> FailAsync(ApplicationUser user, LockoutState state, string failure, CancellationToken cancellationToken) =>
        new(Map(await lockout.RecordFailureAsync(user.Id, state, cancellationToken)), user, failure);

    private Task<ApplicationUser?> FreshAsync(string userId) => database.ReloadAccountAsync(users, userId);

    private static bool IsConcurrencyFailure(IdentityResult result) =>
        result.Errors.Any(static e => e.Code == nameof(IdentityErrorDescriber.ConcurrencyFailure));

    private static SecondFactorOutcome Map(PasswordCheckOutcome outcome) => outcome switch
    {
        PasswordCheckOutcome.Succeeded => SecondFactorOutcome.Succeeded,
        PasswordCheckOutcome.FailedAndLocked => SecondFactorOutcome.FailedAndLocked,
        PasswordCheckOutcome.LockedOut => SecondFactorOutcome.LockedOut,
        _ => SecondFactorOutcome.Failed,
    };
}
