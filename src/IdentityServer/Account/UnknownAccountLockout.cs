using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace IdentityServer.Account;

/// <summary>
/// Gives sign-in names that match no account the same lockout behaviour as real accounts, so that
/// "this account is locked" after a few failures does not tell an attacker which names exist. Counts
/// live in memory, per node, for a day (Identity keeps an account's count until a successful
/// sign-in), at most <see cref="Capacity"/> names (beyond it the cache compacts the oldest away).
/// With several nodes each counts its own failures, so an unknown name behind a round-robin
/// balancer locks later than an account would: docs/security.md says so.
/// </summary>
internal sealed class UnknownAccountLockout(IOptions<IdentityOptions> identity, TimeProvider clock) : IDisposable
{
    /// <summary>Enough for a spray of unknown names; beyond it the oldest entries are compacted away.</summary>
    private const int Capacity = 100_000;

    /// <summary>How long failures of an unknown name are remembered.</summary>
    private static readonly TimeSpan CountKept = TimeSpan.FromDays(1);

    private readonly MemoryCache _attempts = new(new MemoryCacheOptions { SizeLimit = Capacity });

    /// <summary>True while the name is locked, as a real account would be after as many failures.</summary>
    public bool IsLockedOut(string login) =>
        _attempts.TryGetValue(Key(login), out Attempts? attempts) && attempts!.IsLockedOut(clock.GetUtcNow());

    /// <summary>
    /// Counts a failed sign-in as <see cref="PasswordSignIn"/> counts one for an account: the failure
    /// that reaches the limit locks the name, and a failure that finds the name locked by another
    /// attempt (which finished first) is refused and not counted.
    /// </summary>
    public PasswordCheckOutcome RecordFailure(string login)
    {
        var lockout = identity.Value.Lockout;
        var attempts = _attempts.GetOrCreate(Key(login), entry =>
        {
            entry.Size = 1;
            entry.AbsoluteExpirationRelativeToNow = lockout.DefaultLockoutTimeSpan > CountKept ? lockout.DefaultLockoutTimeSpan : CountKept;
            return new Attempts();
        })!;
        return attempts.Fail(clock.GetUtcNow(), lockout.MaxFailedAccessAttempts, lockout.DefaultLockoutTimeSpan);
    }

    public void Dispose() => _attempts.Dispose();

    private static string Key(string login) => LoginKey.Normalize(login);

    private sealed class Attempts
    {
        private int _failures;
        private DateTimeOffset _lockedUntil;

        public bool IsLockedOut(DateTimeOffset now)
        {
            lock (this)
            {
                return _lockedUntil >= now;
            }
        }

        public PasswordCheckOutcome Fail(DateTimeOffset now, int maxFailures, TimeSpan lockoutTime)
        {
            lock (this)
            {
                if (_lockedUntil >= now)
                {
                    return PasswordCheckOutcome.LockedOut;
                }
                // As Identity does: reaching the limit locks and starts counting again from zero.
                if (++_failures < maxFailures)
                {
                    return PasswordCheckOutcome.Failed;
                }
                _failures = 0;
                _lockedUntil = now + lockoutTime;
                return PasswordCheckOutcome.FailedAndLocked;
            }
        }
    }
}
