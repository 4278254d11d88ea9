using System.Globalization;
using IdentityServer.Account;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Sessions;
using Microsoft.AspNetCore.Identity;

namespace IdentityServer.TwoFactor;

/// <summary>
/// Turns an account's authenticator on and off and gives it recovery codes, through Identity's
/// APIs, and records each change. Turning the authenticator on or off changes the security stamp
/// (Identity does so), which ends the account's refresh-token chains; the user's other sessions
/// are ended too, as after a password change, and the caller renews this browser's cookie.
/// </summary>
internal sealed class SecondFactors(
    UserManager<ApplicationUser> users,
    IUserStore<ApplicationUser> store,
    ApplicationDbContext database,
    SessionService sessions,
    SecurityNotices notices,
    AuditLog audit)
{
    /// <summary>An Identity save fails when another write to the account came between its read and its save; it is tried again on a fresh read.</summary>
    private const int MaxAttempts = 5;

    /// <summary>Where the session that was shown the stored authenticator key is kept (a user token row).</summary>
    private const string KeyOwnerProvider = "[IdentityServer]";
    private const string KeyOwnerName = "AuthenticatorKeySession";

    /// <summary>Whether the authenticator is on, and how many recovery codes are left.</summary>
    public async Task<(bool Enabled, int RecoveryCodesLeft)> StatusAsync(ApplicationUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return (await users.GetTwoFactorEnabledAsync(user), await users.CountRecoveryCodesAsync(user));
    }

    /// <summary>
    /// The key the user is setting up in the session <paramref name="sessionId"/>: the stored one when
    /// this session was shown it, otherwise a new one. A key shown to another session (a set-up
    /// abandoned there, perhaps by someone who had the password) is never shown again: it could
    /// already be in their app. A new key is stored through Identity's key store without
    /// <c>ResetAuthenticatorKeyAsync</c>, which would also change the security stamp, and so end the
    /// account's refresh tokens, just because the page was opened. The key does nothing until the
    /// authenticator is turned on.
    /// </summary>
    public async Task<string> KeyToSetUpAsync(string userId, string sessionId)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        var tokens = (IUserAuthenticationTokenStore<ApplicationUser>)store;
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var user = await FreshAsync(userId);
            if (await users.GetAuthenticatorKeyAsync(user) is { Length: > 0 } key
                && await tokens.GetTokenAsync(user, KeyOwnerProvider, KeyOwnerName, CancellationToken.None) == sessionId)
            {
                return key;
            }
            var keys = (IUserAuthenticatorKeyStore<ApplicationUser>)store;
            await keys.SetAuthenticatorKeyAsync(user, users.GenerateNewAuthenticatorKey(), CancellationToken.None);
            await tokens.SetTokenAsync(user, KeyOwnerProvider, KeyOwnerName, sessionId, CancellationToken.None);
            // Another tab storing its own key at the same moment wins: this one reads that key next.
            Check(await users.UpdateAsync(user));
        }
        throw Unsettled();
    }

    /// <summary>
    /// Turns the authenticator on (its key confirmed by a code) with ten new recovery codes, and
    /// ends the user's other sessions. Returns the codes, to be shown once, and the account as saved.
    /// </summary>
    public async Task<(IReadOnlyList<string> Codes, ApplicationUser User)> EnableAsync(string userId, string? currentSessionId, CancellationToken cancellationToken)
    {
        var codes = await NewCodesAsync(userId, RecoveryCodes.Count);
        var user = await ChangeAsync(userId, account => users.SetTwoFactorEnabledAsync(account, true));
        audit.Add(SecurityEventTypes.AuthenticatorEnabled, user.Id, user.UserName, currentSessionId);
        audit.Add(SecurityEventTypes.RecoveryCodesGenerated, user.Id, user.UserName, currentSessionId, detail: Count(codes.Count));
        await audit.SaveAsync(cancellationToken);
        await sessions.EndAllAsync(user.Id, SessionEndReasons.SecondFactorChanged, user.Id, currentSessionId, cancellationToken);
        await notices.AuthenticatorEnabledAsync(user);
        return (codes, user);
    }

    /// <summary>Replaces the recovery codes with ten new ones (the old ones stop working).</summary>
    public async Task<IReadOnlyList<string>> NewRecoveryCodesAsync(string userId, string? currentSessionId, CancellationToken cancellationToken)
    {
        var codes = await NewCodesAsync(userId, RecoveryCodes.Count);
        var user = await FreshAsync(userId);
        await audit.RecordAsync(SecurityEventTypes.RecoveryCodesGenerated, user.Id, user.UserName, currentSessionId,
            detail: Count(codes.Count), cancellationToken: cancellationToken);
        return codes;
    }

    /// <summary>
    /// Turns the authenticator off, replaces its key (setting it up again shows a new one, so the
    /// old phone's codes never work again) and deletes the recovery codes; ends the account's
    /// sessions but <paramref name="exceptSessionId"/>. Records <paramref name="eventType"/> by
    /// <paramref name="actor"/> (the user, or an administrator). Returns the account as saved and how many sessions ended.
    /// </summary>
    public async Task<(ApplicationUser User, int EndedSessions)> DisableAsync(string userId, string eventType, string actor, string? exceptSessionId, CancellationToken cancellationToken)
    {
        await ChangeAsync(userId, account => users.SetTwoFactorEnabledAsync(account, false));
        await ChangeAsync(userId, users.ResetAuthenticatorKeyAsync);
        await NewCodesAsync(userId, 0);
        var user = await FreshAsync(userId);
        await audit.RecordAsync(eventType, user.Id, user.UserName, exceptSessionId, actor: actor == user.Id ? null : actor,
            cancellationToken: cancellationToken);
        var ended = await sessions.EndAllAsync(user.Id, SessionEndReasons.SecondFactorChanged, actor, exceptSessionId, cancellationToken);
        await notices.AuthenticatorDisabledAsync(user, byAdministrator: actor != user.Id);
        return (user, ended);
    }

    private async Task<IReadOnlyList<string>> NewCodesAsync(string userId, int count)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            // Null when the save failed: another write came first.
            if (await users.GenerateNewTwoFactorRecoveryCodesAsync(await FreshAsync(userId), count) is { } codes)
            {
                return [.. codes];
            }
        }
        throw Unsettled();
    }

    private async Task<ApplicationUser> ChangeAsync(string userId, Func<ApplicationUser, Task<IdentityResult>> change)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var user = await FreshAsync(userId);
            var result = await change(user);
            if (result.Succeeded)
            {
                return user;
            }
            if (!result.Errors.Any(static e => e.Code == nameof(IdentityErrorDescriber.ConcurrencyFailure)))
            {
                Check(result);
            }
        }
        throw Unsettled();
    }

    private async Task<ApplicationUser> FreshAsync(string userId) =>
        await database.ReloadAccountAsync(users, userId) ?? throw new InvalidOperationException("The account no longer exists.");

    private static string Count(int count) => count.ToString(CultureInfo.InvariantCulture);

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded && !result.Errors.Any(static e => e.Code == nameof(IdentityErrorDescriber.ConcurrencyFailure)))
        {
            throw new InvalidOperationException("The account could not be updated: " + string.Join(" ", result.Errors.Select(static e => e.Code)));
        }
    }

    private static InvalidOperationException Unsettled() =>
        new("The account changed under each attempt to save it; nothing was changed.");
}
