using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Email;
using IdentityServer.RateLimiting;
using IdentityServer.Sessions;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IdentityServer.Account;

/// <summary>
/// Forgot password: a mail with a single-use, time-limited link (Identity's reset token, bound to
/// the security stamp, which the reset itself changes), then a new password that ends every
/// session of the account.
/// <para>
/// A request answers the same whatever was typed, and does the same work before answering: the
/// lookup, the per-account limit and one audit row; the mail itself is queued and sent after the
/// response (<see cref="MailQueue"/>), so neither its time nor a failing SMTP server shows.
/// Reset mail goes only to a verified address (an unverified one may be a stranger's typo) of an
/// account no administrator has locked.
/// </para>
/// </summary>
internal sealed class PasswordReset(
    UserManager<ApplicationUser> users,
    ApplicationDbContext database,
    AccountLinks links,
    MailSender mail,
    MailQueue queue,
    MailDelivery delivery,
    RateLimiters limits,
    UnknownLoginNames unknownNames,
    SessionService sessions,
    AuditLog audit,
    IOptions<AccountLinkOptions> linkOptions,
    IOptions<IdentityOptions> identity,
    TimeProvider clock)
{
    public const string PagePath = "/Account/ResetPassword";

    /// <summary>Handles one forgot-password request for a user name or e-mail address.</summary>
    public async Task RequestAsync(string login, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(login);
        login = login.Trim();
        var user = await users.FindByNameAsync(login)
            ?? (login.Contains('@', StringComparison.Ordinal) ? await users.FindByEmailAsync(login) : null);
        var notSent = await QueueMailAsync(user, login);
        // Recorded even if the client hangs up: the request was made. Unknown names as a keyed hash, as at sign-in.
        await audit.RecordAsync(SecurityEventTypes.PasswordResetRequested, user?.Id, user?.UserName ?? unknownNames.Pseudonym(login),
            detail: notSent, cancellationToken: CancellationToken.None);
    }

    /// <summary>Queues the mail; or says why none goes out (the audit detail).</summary>
    private async Task<string?> QueueMailAsync(ApplicationUser? user, string login)
    {
        using (var lease = limits.AcquirePasswordResetForAccount(user?.Id, login))
        {
            if (!lease.IsAcquired)
            {
                return "rate_limited";
            }
        }
        if (user is null)
        {
            return "unknown_account";
        }
        if (string.IsNullOrEmpty(user.Email))
        {
            return "no_email";
        }
        if (!user.EmailConfirmed)
        {
            return "email_not_verified";
        }
        if (IsLockedByAdministrator(user.LockoutEnd))
        {
            return "locked";
        }
        var token = await users.GeneratePasswordResetTokenAsync(user);
        var lifetime = linkOptions.Value.PasswordResetLinkLifetime;
        var message = AccountMails.PasswordReset(user.UserName ?? user.Email, links.Create(PagePath, user.Id, token), lifetime)
            .ToMessage(mail.From, mail.ProductName, user.Email);
        var outgoing = new OutgoingMail(message, AccountMails.PasswordResetPurpose, user.Id, user.UserName);
        if (!queue.TryEnqueue(outgoing))
        {
            await delivery.RecordFailureAsync(outgoing, "queue_full");
            return "queue_full";
        }
        return null;
    }

    /// <summary>Whether a link (as the page received it) can still reset a password.</summary>
    public async Task<ResetLinkState> CheckLinkAsync(string? userId, string? encodedToken) =>
        (await OpenAsync(userId, encodedToken)).State;

    /// <summary>
    /// Sets the new password (Identity's password rules) if the link is still good. Then every
    /// session of the account ends (this browser's too), a lockout after failed sign-ins is lifted
    /// (the person proved they hold the mailbox, which is what the reset trusts), and the reset is
    /// recorded. An administrator's lock is never lifted here: such an account cannot be reset.
    /// </summary>
    public async Task<PasswordResetResult> ResetAsync(string? userId, string? encodedToken, string newPassword, CancellationToken cancellationToken)
    {
        var (state, user, token) = await OpenAsync(userId, encodedToken);
        if (state != ResetLinkState.Valid)
        {
            return new PasswordResetResult(state, []);
        }
        var result = await users.ResetPasswordAsync(user!, token!, newPassword);
        if (!result.Succeeded)
        {
            // A failed save leaves the new hash on the tracked account: it must not ride along with a later save.
            await database.Entry(user!).ReloadAsync(cancellationToken);
            if (result.Errors.Any(static e => e.Code is nameof(IdentityErrorDescriber.InvalidToken) or nameof(IdentityErrorDescriber.ConcurrencyFailure)))
            {
                // Used meanwhile (another tab), or the account changed under the save: what is the link worth now?
                var now = await CheckLinkAsync(userId, encodedToken);
                return now == ResetLinkState.Valid
                    ? new PasswordResetResult(now, [Localization.Texts.Get("The account changed while the password was being saved. Try again.")])
                    : new PasswordResetResult(now, []);
            }
            return new PasswordResetResult(ResetLinkState.Valid, [.. result.Errors.Select(static e => e.Description)]);
        }

        var unlocked = await ClearSignInLockoutAsync(user!.Id, cancellationToken);
        await sessions.EndAllAsync(user.Id, SessionEndReasons.PasswordReset, user.Id, null, cancellationToken);
        await audit.RecordAsync(SecurityEventTypes.PasswordResetCompleted, user.Id, user.UserName,
            detail: unlocked ? "lockout_cleared" : null, cancellationToken: CancellationToken.None);
        return new PasswordResetResult(ResetLinkState.Valid, []);
    }

    private async Task<(ResetLinkState State, ApplicationUser? User, string? Token)> OpenAsync(string? userId, string? encodedToken)
    {
        var token = AccountLinks.DecodeToken(encodedToken);
        var user = token is null || string.IsNullOrEmpty(userId) || userId.Length > 450 ? null : await users.FindByIdAsync(userId);
        if (user is null || !await users.VerifyUserTokenAsync(user, users.Options.Tokens.PasswordResetTokenProvider, UserManager<ApplicationUser>.ResetPasswordTokenPurpose, token!))
        {
            return (ResetLinkState.Invalid, null, null);
        }
        return IsLockedByAdministrator(user.LockoutEnd) ? (ResetLinkState.LockedByAdministrator, user, null) : (ResetLinkState.Valid, user, token);
    }

    /// <summary>
    /// Failed sign-ins lock an account for at most the lockout time from now; a lock that ends later
    /// (an administrator's lasts until lifted) is not theirs, and a reset leaves it.
    /// </summary>
    private bool IsLockedByAdministrator(DateTimeOffset? lockoutEnd) =>
        lockoutEnd is { } end && end > clock.GetUtcNow() + identity.Value.Lockout.DefaultLockoutTimeSpan;

    /// <summary>
    /// Resets the failure count and ends a sign-in lockout, in one UPDATE that applies only while
    /// the lockout end is still the one read (as <see cref="PasswordSignIn"/> writes it): an
    /// administrator's lock set meanwhile stays. True when the account was locked.
    /// </summary>
    private async Task<bool> ClearSignInLockoutAsync(string userId, CancellationToken cancellationToken)
    {
        var state = await database.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(static u => new { u.LockoutEnd, u.AccessFailedCount })
            .SingleOrDefaultAsync(cancellationToken);
        if (state is null || IsLockedByAdministrator(state.LockoutEnd) || (state.LockoutEnd is null && state.AccessFailedCount == 0))
        {
            return false;
        }
        var end = state.LockoutEnd;
        var stamp = Guid.NewGuid().ToString();
        var updated = await database.Users.Where(u => u.Id == userId && u.LockoutEnd == end)
            .ExecuteUpdateAsync(setters => setters
                .SetProperty(u => u.LockoutEnd, (DateTimeOffset?)null)
                .SetProperty(u => u.AccessFailedCount, 0)
                .SetProperty(u => u.ConcurrencyStamp, stamp), cancellationToken);
        return updated > 0 && end > clock.GetUtcNow();
    }
}
