using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;
using Microsoft.Extensions.Options;

namespace IdentityServer.Account;

/// <summary>
/// Keeps Identity's lockout exact however many attempts run at once, on SQLite and on a PostgreSQL
/// database shared by several nodes, for every step of a sign-in: a password (<see cref="PasswordSignIn"/>)
/// and a second factor (<c>TwoFactor/SecondFactorCheck</c>) count towards the same lockout.
/// Identity's own <c>AccessFailedAsync</c> reads the account and saves the whole row guarded by its
/// concurrency stamp: of simultaneous wrong attempts only one was counted (the others lost on the
/// stamp, and left a modified account in the unit of work that failed the next save), so a burst
/// of guesses never locked the account. Here instead:
/// <list type="number">
/// <item>the lockout state is read fresh (<see cref="ReadAsync"/>), and a locked account is refused without a check;</item>
/// <item>the secret is checked with no lock held (a password hash is slow on purpose, and a SQLite
/// write lock covers the whole database);</item>
/// <item>the outcome is written by one UPDATE that applies only while the lockout state is still
/// the one read, so never to a locked account: a failure adds one to the count in the database, or
/// at the limit locks the account and resets the count (<see cref="RecordFailureAsync"/>); a success
/// writes what it writes (<see cref="UpdateIfUnchangedAsync"/>). If the state has changed, it is
/// read again: locked now means the attempt is refused and not counted (<see cref="Settles"/>);
/// otherwise the UPDATE is tried against the new state.</item>
/// </list>
/// Every attempt takes effect at one statement (its UPDATE, or the read that found the account
/// locked), in the order the database applied them: the outcomes are those of the attempts made one
/// at a time in that order. No lock outlives a statement: writes queue at the SQLite write gate like
/// every other bulk update, and on PostgreSQL an UPDATE re-checks its condition against the row as
/// the previous writer committed it, so nodes need nothing of their own.
/// </summary>
internal sealed partial class AccountLockout(
    ApplicationDbContext database,
    IOptions<IdentityOptions> identity,
    TimeProvider clock,
    ILogger<AccountLockout> logger)
{
    /// <summary>
    /// Each round that does not settle an attempt means another write to the same account committed
    /// in between, and every such write is itself a counted failure, a lock or a success: a handful
    /// of rounds settles any real burst. Running out means the stored lockout end never reads back
    /// equal to itself (a value written outside the application): the attempt is refused.
    /// </summary>
    public const int MaxRounds = 32;

    public DateTimeOffset Now => clock.GetUtcNow();

    /// <summary>The account's state, read fresh without tracking; null when it does not exist (any more).</summary>
    public Task<LockoutState?> ReadAsync(string userId, CancellationToken cancellationToken) =>
        database.Users.AsNoTracking()
            .Where(u => u.Id == userId)
            .Select(u => new LockoutState(u.LockoutEnabled, u.LockoutEnd, u.AccessFailedCount, u.PasswordHash,
                u.TwoFactorEnabled, u.AuthenticatorTimeStep, u.SecurityStamp))
            .SingleOrDefaultAsync(cancellationToken);

    /// <summary>Counts a failed attempt: one more failure, or at the limit a lock (and the count reset).</summary>
    public async Task<PasswordCheckOutcome> RecordFailureAsync(string userId, LockoutState state, CancellationToken cancellationToken)
    {
        var lockout = identity.Value.Lockout;
        var lastBeforeLock = lockout.MaxFailedAccessAttempts - 1;
        for (var round = 0; round < MaxRounds; round++)
        {
            if (state.IsLockedOut(clock.GetUtcNow()))
            {
                return PasswordCheckOutcome.LockedOut; // refused, not counted (a caller's state may be older than its own check)
            }
            if (!state.LockoutEnabled)
            {
                return PasswordCheckOutcome.Failed; // such an account is never locked: nothing to count towards
            }
            var locks = state.AccessFailedCount >= lastBeforeLock;
            var lockedUntil = clock.GetUtcNow() + lockout.DefaultLockoutTimeSpan;
            // The count is compared in the database too: it may have moved since the read.
            var updated = locks
                ? await UpdateIfUnchangedAsync(userId, state, u => u.AccessFailedCount >= lastBeforeLock, setters => setters
                    .SetProperty(u => u.AccessFailedCount, 0)
                    .SetProperty(u => u.LockoutEnd, lockedUntil), cancellationToken)
                : await UpdateIfUnchangedAsync(userId, state, u => u.AccessFailedCount < lastBeforeLock, setters => setters
                    .SetProperty(u => u.AccessFailedCount, u => u.AccessFailedCount + 1), cancellationToken);
            if (updated)
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
    /// One conditional UPDATE of the account: applied only while its lockout state is still
    /// <paramref name="state"/> (and <paramref name="condition"/> holds). It also writes a new
    /// concurrency stamp, as Identity does, so that an account entity loaded before it fails its own
    /// save instead of writing back an old count. False when nothing was updated.
    /// </summary>
    public async Task<bool> UpdateIfUnchangedAsync(
        string userId, LockoutState state, Expression<Func<ApplicationUser, bool>>? condition,
        Action<UpdateSettersBuilder<ApplicationUser>> setters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(setters);
        var enabled = state.LockoutEnabled;
        var end = state.LockoutEnd;
        // Equality only: SQLite keeps the end as text.
        var query = database.Users.Where(u => u.Id == userId && u.LockoutEnabled == enabled && u.LockoutEnd == end);
        if (condition is not null)
        {
            query = query.Where(condition);
        }
        var stamp = Guid.NewGuid().ToString();
        return await query.ExecuteUpdateAsync(update =>
        {
            setters(update);
            update.SetProperty(u => u.ConcurrencyStamp, stamp);
        }, cancellationToken) > 0;
    }

    /// <summary>
    /// Whether the state read after another write came first settles the attempt: an account locked
    /// now refuses it, uncounted; one deleted meanwhile fails it. Otherwise the attempt goes on.
    /// </summary>
    public bool Settles([NotNullWhen(false)] LockoutState? current, out PasswordCheckOutcome outcome)
    {
        outcome = current is null ? PasswordCheckOutcome.Failed : PasswordCheckOutcome.LockedOut;
        return current is null || current.IsLockedOut(clock.GetUtcNow());
    }

    /// <summary>The attempt could not be settled in <see cref="MaxRounds"/> rounds: it is refused.</summary>
    public PasswordCheckOutcome GiveUp(string userId)
    {
        LogUnsettled(logger, userId, MaxRounds);
        return PasswordCheckOutcome.LockedOut;
    }

    [LoggerMessage(EventId = 4200, Level = LogLevel.Error,
        Message = "The sign-in attempt on account {UserId} was refused: its lockout state changed under each of {Rounds} updates. Unlocking the account in the admin pages rewrites that state.")]
    private static partial void LogUnsettled(ILogger logger, string userId, int rounds);
}
