using System.Diagnostics.CodeAnalysis;
using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IdentityServer.Account;

/// <summary>
/// Checks a login and password, keeping Identity's lockout exact however many attempts run at once,
/// on SQLite and on a PostgreSQL database shared by several nodes. Identity's
/// <c>CheckPasswordSignInAsync</c> reads the account, hashes, and saves the whole row guarded by its
/// concurrency stamp: of simultaneous wrong passwords only one was counted (the others lost on the
/// stamp, and left a modified account in the unit of work that failed the next save), so a burst of
/// guesses never locked the account. Here instead:
/// <list type="number">
/// <item>the lockout state is read fresh, and a locked account is refused without a password check;</item>
/// <item>the password is verified with no lock held (the hash is slow on purpose, and a SQLite write
/// lock covers the whole database);</item>
/// <item>the outcome is written by one UPDATE that applies only while the lockout state is still the
/// one read, so never to a locked account: a failure adds one to the count in the database, or at
/// the limit locks the account and resets the count; a success resets the count. If the state has
/// changed, it is read again: locked now means the attempt is refused and not counted; otherwise the
/// UPDATE is tried against the new state.</item>
/// </list>
/// Every attempt takes effect at one statement (its UPDATE, or the read that found the account
/// locked), in the order the database applied them: the outcomes are those of the attempts made one
/// at a time in that order. No lock outlives a statement: writes queue at the SQLite write gate like
/// every other bulk update, and on PostgreSQL an UPDATE re-checks its condition against the row as
/// the previous writer committed it, so nodes need nothing of their own.
/// </summary>
internal sealed partial class PasswordSignIn(
    ApplicationDbContext database,
    UserManager<ApplicationUser> users,
    SignInManager<ApplicationUser> signIn,
    UnknownAccountLockout unknownAccounts,
    UnknownLoginNames unknownNames,
    IOptions<IdentityOptions> identity,
    TimeProvider clock,
    ILogger<PasswordSignIn> logger)
{
    /// <summary>
    /// Each round that does not settle an attempt means another write to the same account committed
    /// in between, and every such write is itself a counted failure, a lock or a success: a handful
    /// of rounds settles any real burst. Running out means the stored lockout end never reads back
    /// equal to itself (a value written outside the application): the attempt is refused.
    /// </summary>
    private const int MaxRounds = 32;

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
        if (await ReadAsync(user.Id, cancellationToken) is not { } state)
        {
            return PasswordCheckOutcome.Failed; // deleted a moment ago
        }
        if (state.IsLockedOut(clock.GetUtcNow()))
        {
            return PasswordCheckOutcome.LockedOut;
        }
        var verification = state.PasswordHash is null
            ? PasswordVerificationResult.Failed
            : users.PasswordHasher.VerifyHashedPassword(user, state.PasswordHash, password);
        return verification == PasswordVerificationResult.Failed
            ? await RecordFailureAsync(user.Id, state, cancellationToken)
            : await RecordSuccessAsync(user, state, verification == PasswordVerificationResult.SuccessRehashNeeded ? password : null, cancellationToken);
    }

    private async Task<PasswordCheckOutcome> RecordFailureAsync(string userId, LockoutState state, CancellationToken cancellationToken)
    {
        var lockout = identity.Value.Lockout;
        var lastBeforeLock = lockout.MaxFailedAccessAttempts - 1;
        for (var round = 0; round < MaxRounds; round++)
        {
            if (!state.LockoutEnabled)
            {
                return PasswordCheckOutcome.Failed; // such an account is never locked: nothing to count towards
            }
            var stamp = Guid.NewGuid().ToString();
            var locks = state.AccessFailedCount >= lastBeforeLock;
            var lockedUntil = clock.GetUtcNow() + lockout.DefaultLockoutTimeSpan;
            int updated;
            using (await database.WriteGateTurnAsync(cancellationToken))
            {
                // The count is compared in the database too: it may have moved since the read.
                // A new concurrency stamp, as Identity writes one, makes an account entity loaded
                // before this fail its own save instead of writing back an old count.
                updated = locks
                    ? await Unchanged(userId, state).Where(u => u.AccessFailedCount >= lastBeforeLock)
                        .ExecuteUpdateAsync(setters => setters
                            .SetProperty(u => u.AccessFailedCount, 0)
                            .SetProperty(u => u.LockoutEnd, lockedUntil)
                            .SetProperty(u => u.ConcurrencyStamp, stamp), cancellationToken)
                    : await Unchanged(userId, state).Where(u => u.AccessFailedCount < lastBeforeLock)
                        .ExecuteUpdateAsync(setters => setters
                            .SetProperty(u => u.AccessFailedCount, u => u.AccessFailedCount + 1)
                            .SetProperty(u => u.ConcurrencyStamp, stamp), cancellationToken);
            }
            if (updated > 0)
            {
                return locks ? PasswordCheckOutcome.FailedAndLocked : PasswordCheckOutcome.Failed;
            }
            var current = await ReadAsync(userId, cancellationToken);
            if (Settles(current, out var outcome))
            {
                return outcome;
            }
            state = current;
        }
        return GiveUp(userId);
    }

    /// <summary>
    /// Resets the count, unless the account was locked while the password was being checked: then
    /// the right password is refused like any attempt on a locked account.
    /// </summary>
    private async Task<PasswordCheckOutcome> RecordSuccessAsync(ApplicationUser user, LockoutState state, string? rehashPassword, CancellationToken cancellationToken)
    {
        // Identity replaces a hash made with older settings after a successful check. The new hash
        // goes in only where the verified one is still stored (a password changed meanwhile stays).
        // Identity would also renew the security stamp; the password is the same, and a new stamp
        // would end the account's refresh tokens (the token endpoint compares it), so it is kept.
        var verifiedHash = state.PasswordHash;
        var newHash = rehashPassword is null ? null : users.PasswordHasher.HashPassword(user, rehashPassword);
        for (var round = 0; round < MaxRounds; round++)
        {
            if (state.AccessFailedCount == 0 && newHash is null)
            {
                // Nothing to write (Identity leaves a zero count alone too): a fresh read settles
                // whether the account is still unlocked now that the password has been checked.
                var fresh = await ReadAsync(user.Id, cancellationToken);
                if (Settles(fresh, out var refused))
                {
                    return refused;
                }
                if (fresh.AccessFailedCount == 0)
                {
                    return PasswordCheckOutcome.Succeeded;
                }
                state = fresh;
                continue;
            }

            var stamp = Guid.NewGuid().ToString();
            int updated;
            using (await database.WriteGateTurnAsync(cancellationToken))
            {
                updated = await Unchanged(user.Id, state).ExecuteUpdateAsync(setters =>
                {
                    setters.SetProperty(u => u.AccessFailedCount, 0).SetProperty(u => u.ConcurrencyStamp, stamp);
                    if (newHash is not null)
                    {
                        setters.SetProperty(u => u.PasswordHash, u => u.PasswordHash == verifiedHash ? newHash : u.PasswordHash);
                    }
                }, cancellationToken);
            }
            if (updated > 0)
            {
                return PasswordCheckOutcome.Succeeded;
            }
            var current = await ReadAsync(user.Id, cancellationToken);
            if (Settles(current, out var outcome))
            {
                return outcome;
            }
            state = current;
        }
        return GiveUp(user.Id);
    }

    /// <summary>The account's row while its lockout state is still the one read (equality only: SQLite keeps the end as text).</summary>
    private IQueryable<ApplicationUser> Unchanged(string userId, LockoutState state)
    {
        var enabled = state.LockoutEnabled;
        var end = state.LockoutEnd;
        return database.Users.Where(u => u.Id == userId && u.LockoutEnabled == enabled && u.LockoutEnd == end);
    }

    private Task<LockoutState?> ReadAsync(string userId, CancellationToken cancellationToken) =>
        database.Users.AsNoTracking()
            .Where(u => u.Id == userId)
            .Select(u => new LockoutState(u.LockoutEnabled, u.LockoutEnd, u.AccessFailedCount, u.PasswordHash))
            .SingleOrDefaultAsync(cancellationToken);

    /// <summary>
    /// Whether the state read after another write came first settles the attempt: an account locked
    /// now refuses it, uncounted; one deleted meanwhile fails it. Otherwise the attempt goes on.
    /// </summary>
    private bool Settles([NotNullWhen(false)] LockoutState? current, out PasswordCheckOutcome outcome)
    {
        outcome = current is null ? PasswordCheckOutcome.Failed : PasswordCheckOutcome.LockedOut;
        return current is null || current.IsLockedOut(clock.GetUtcNow());
    }

    private PasswordCheckOutcome GiveUp(string userId)
    {
        LogUnsettled(logger, userId, MaxRounds);
        return PasswordCheckOutcome.LockedOut;
    }

    [LoggerMessage(EventId = 4200, Level = LogLevel.Error,
        Message = "The sign-in attempt on account {UserId} was refused: its lockout state changed under each of {Rounds} updates. Unlocking the account in the admin pages rewrites that state.")]
    private static partial void LogUnsettled(ILogger logger, string userId, int rounds);

    /// <summary>What lockout needs of an account, read without tracking.</summary>
    private sealed record LockoutState(bool LockoutEnabled, DateTimeOffset? LockoutEnd, int AccessFailedCount, string? PasswordHash)
    {
        /// <summary>As Identity's <c>IsLockedOutAsync</c>: an end at or after now locks, where lockout is enabled.</summary>
        public bool IsLockedOut(DateTimeOffset now) => LockoutEnabled && LockoutEnd >= now;
    }
}
