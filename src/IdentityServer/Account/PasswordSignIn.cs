using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Account;

/// <summary>
/// Checks a login and password, keeping Identity's lockout exact however many attempts run at once
/// (see <see cref="AccountLockout"/>, which also counts wrong second-factor codes). Identity's
/// <c>CheckPasswordSignInAsync</c> reads the account, hashes, and saves the whole row guarded by its
/// concurrency stamp, so of simultaneous wrong passwords only one was counted. Here the lockout
/// state is read fresh, the password verified with no lock held, and the outcome written by one
/// conditional UPDATE.
/// </summary>
internal sealed class PasswordSignIn(
    UserManager<ApplicationUser> users,
    SignInManager<ApplicationUser> signIn,
    AccountLockout lockout,
    UnknownAccountLockout unknownAccounts,
    UnknownLoginNames unknownNames)
{
    // A valid Identity v3 hash of a random password: checked against for unknown accounts.
    private static readonly string UnknownUserHash = new PasswordHasher<ApplicationUser>().HashPassword(new ApplicationUser(), Guid.NewGuid().ToString());

    /// <summary>Finds the account by user name, or by email when the login looks like one, and checks the password.</summary>
    public async Task<PasswordCheck> CheckAsync(string login, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(login);
        ArgumentNullException.ThrowIfNull(password);
        login = login.Trim();
        var user = await users.FindByNameAsync(login)
            ?? (login.Contains('@', StringComparison.Ordinal) ? await users.FindByEmailAsync(login) : null);
        if (user is null)
        {
            return new PasswordCheck(CheckUnknown(login, password), null, unknownNames.Pseudonym(login));
        }
        return new PasswordCheck(await CheckAccountAsync(user, password, cancellationToken), user, user.UserName);
    }

    /// <summary>
    /// Checks the password of a known account (the current password when changing it) exactly as a
    /// sign-in does: refused while locked, counted when wrong, the count reset when right.
    /// </summary>
    public Task<PasswordCheckOutcome> CheckAccountPasswordAsync(ApplicationUser user, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(password);
        return CheckAccountAsync(user, password, cancellationToken);
    }

    /// <summary>
    /// An unknown login answers as an account would: lockout after as many failures, and the same
    /// hashing work (none while locked, as for a locked account).
    /// </summary>
    private PasswordCheckOutcome CheckUnknown(string login, string password)
    {
        if (unknownAccounts.IsLockedOut(login))
        {
            return PasswordCheckOutcome.LockedOut;
        }
        users.PasswordHasher.VerifyHashedPassword(new ApplicationUser(), UnknownUserHash, password);
        return unknownAccounts.RecordFailure(login);
    }

    private async Task<PasswordCheckOutcome> CheckAccountAsync(ApplicationUser user, string password, CancellationToken cancellationToken)
    {
        // Identity checks this before the lockout, and counts nothing when it fails.
        if (!await signIn.CanSignInAsync(user))
        {
            return PasswordCheckOutcome.NotAllowed;
        }
        // Read again rather than trusting the entity: the context may have been tracking it already.
        if (await lockout.ReadAsync(user.Id, cancellationToken) is not { } state)
        {
            return PasswordCheckOutcome.Failed; // deleted a moment ago
        }
        if (state.IsLockedOut(lockout.Now))
        {
            return PasswordCheckOutcome.LockedOut;
        }
        var verification = state.PasswordHash is null
            ? PasswordVerificationResult.Failed
            : users.PasswordHasher.VerifyHashedPassword(user, state.PasswordHash, password);
        return verification == PasswordVerificationResult.Failed
            ? await lockout.RecordFailureAsync(user.Id, state, cancellationToken)
            : await RecordSuccessAsync(user, state, verification == PasswordVerificationResult.SuccessRehashNeeded ? password : null, cancellationToken);
    }

    /// <summary>
    /// Resets the count, unless the account was locked while the password was being checked: then
    /// the right password is refused like any attempt on a locked account. With a second factor to
    /// come the count is left alone, as Identity's <c>CheckPasswordSignInAsync</c> leaves it: only
    /// the complete sign-in resets it, or a right password between wrong codes would let codes be
    /// guessed for ever.
    /// </summary>
    private async Task<PasswordCheckOutcome> RecordSuccessAsync(ApplicationUser user, LockoutState state, string? rehashPassword, CancellationToken cancellationToken)
    {
        // Identity replaces a hash made with older settings after a successful check. The new hash
        // goes in only where the verified one is still stored (a password changed meanwhile stays).
        // Identity would also renew the security stamp; the password is the same, and a new stamp
        // would end the account's refresh tokens (the token endpoint compares it), so it is kept.
        var verifiedHash = state.PasswordHash;
        var newHash = rehashPassword is null ? null : users.PasswordHasher.HashPassword(user, rehashPassword);
        for (var round = 0; round < AccountLockout.MaxRounds; round++)
        {
            var resetsCount = !state.TwoFactorEnabled;
            if ((state.AccessFailedCount == 0 || !resetsCount) && newHash is null)
            {
                // Nothing to write (Identity leaves a zero count alone too): a fresh read settles
                // whether the account is still unlocked now that the password has been checked.
                var fresh = await lockout.ReadAsync(user.Id, cancellationToken);
                if (lockout.Settles(fresh, out var refused))
                {
                    return refused;
                }
                if (fresh.AccessFailedCount == 0 || fresh.TwoFactorEnabled)
                {
                    return PasswordCheckOutcome.Succeeded;
                }
                state = fresh;
                continue;
            }

            var updated = await lockout.UpdateIfUnchangedAsync(user.Id, state, null, setters =>
            {
                if (resetsCount)
                {
                    setters.SetProperty(u => u.AccessFailedCount, 0);
                }
                if (newHash is not null)
                {
                    setters.SetProperty(u => u.PasswordHash, u => u.PasswordHash == verifiedHash ? newHash : u.PasswordHash);
                }
            }, cancellationToken);
            if (updated)
            {
                return PasswordCheckOutcome.Succeeded;
            }
            var current = await lockout.ReadAsync(user.Id, cancellationToken);
            if (lockout.Settles(current, out var outcome))
            {
                return outcome;
            }
            state = current;
        }
        return lockout.GiveUp(user.Id);
    }
}
