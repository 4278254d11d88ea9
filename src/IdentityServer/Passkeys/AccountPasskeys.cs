using IdentityServer.Account;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Sessions;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Passkeys;

/// <summary>
/// A signed-in user's passkeys, through Identity's passkey store: list, add (the browser's answer
/// to creation options Identity issued to this browser), rename, remove, each recorded in the audit
/// trail. Adding or removing one is a change of how the account can be signed in to, like turning
/// the authenticator on or off: the user's other sessions end (a session started with a passkey
/// that is now removed, on a lost phone say, must not outlive it).
/// </summary>
internal sealed partial class AccountPasskeys(
    UserManager<ApplicationUser> users,
    SignInManager<ApplicationUser> signIn,
    SessionService sessions,
    SecurityNotices notices,
    AuditLog audit,
    ILogger<AccountPasskeys> logger)
{
    public const int MaxNameLength = 64;

    /// <summary>A credential id is at most 1023 bytes (WebAuthn): at most 1364 characters of base64url.</summary>
    private const int MaxIdLength = 1364;

    public async Task<IReadOnlyList<PasskeyListItem>> ListAsync(ApplicationUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return [.. (await users.GetPasskeysAsync(user))
            .OrderBy(static p => p.CreatedAt)
            .Select(static p => new PasskeyListItem(WebEncoders.Base64UrlEncode(p.CredentialId), p.Name ?? "Passkey", p.CreatedAt))];
    }

    /// <summary>
    /// The options for <c>navigator.credentials.create()</c>, as JSON. Identity keeps the challenge
    /// and the account in its two-factor cookie for the answer; the user handle is the account id.
    /// Discoverable credentials and user verification are required (see <see cref="PasskeySetup"/>);
    /// the account's existing passkeys are excluded, so an authenticator is not registered twice.
    /// </summary>
    public Task<string> CreationOptionsAsync(ApplicationUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var name = user.UserName ?? user.Id;
        return signIn.MakePasskeyCreationOptionsAsync(new PasskeyUserEntity { Id = user.Id, Name = name, DisplayName = name });
    }

    /// <summary>Adds the passkey the browser created; <paramref name="name"/> empty: named after the browser.</summary>
    public async Task<PasskeyChangeResult> AddAsync(ApplicationUser user, string? credentialJson, string? name, string? userAgent,
        string? sessionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (string.IsNullOrWhiteSpace(credentialJson) || credentialJson.Length > PasskeySignIn.MaxCredentialLength)
        {
            return PasskeyChangeResult.Failed;
        }
        PasskeyAttestationResult attestation;
        try
        {
            attestation = await signIn.PerformPasskeyAttestationAsync(credentialJson);
        }
        catch (InvalidOperationException)
        {
            // No creation ceremony pending in this browser (never started, expired, or used).
            return PasskeyChangeResult.Failed;
        }
        // The ceremony names the account it was started for: only that account gets the passkey.
        if (!attestation.Succeeded || attestation.UserEntity.Id != user.Id)
        {
            LogRefused(logger, user.Id, attestation.Failure?.Message ?? "the ceremony was started for another account");
            return PasskeyChangeResult.Failed;
        }
        attestation.Passkey.Name = Clean(name) ?? Localization.Texts.InEnglish(() => Sessions.DeviceNames.Describe(userAgent));
        if (!(await users.AddOrUpdatePasskeyAsync(user, attestation.Passkey)).Succeeded)
        {
            return PasskeyChangeResult.Failed;
        }
        await audit.RecordAsync(SecurityEventTypes.PasskeyAdded, user.Id, user.UserName, sessionId, cancellationToken: cancellationToken);
        await sessions.EndAllAsync(user.Id, SessionEndReasons.PasskeysChanged, user.Id, sessionId, cancellationToken);
        await notices.PasskeyAddedAsync(user, attestation.Passkey.Name);
        return PasskeyChangeResult.Done;
    }

    public async Task<PasskeyChangeResult> RenameAsync(ApplicationUser user, string? id, string? name, string? sessionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (await FindAsync(user, id) is not { } passkey)
        {
            return PasskeyChangeResult.NotFound;
        }
        if (Clean(name) is not { } newName)
        {
            return PasskeyChangeResult.Failed;
        }
        passkey.Name = newName;
        if (!(await users.AddOrUpdatePasskeyAsync(user, passkey)).Succeeded)
        {
            return PasskeyChangeResult.Failed;
        }
        await audit.RecordAsync(SecurityEventTypes.PasskeyRenamed, user.Id, user.UserName, sessionId, cancellationToken: cancellationToken);
        return PasskeyChangeResult.Done;
    }

    public async Task<PasskeyChangeResult> RemoveAsync(ApplicationUser user, string? id, string? sessionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        // Only among this account's passkeys: an id of another account's is simply not found.
        if (await FindAsync(user, id) is not { } passkey)
        {
            return PasskeyChangeResult.NotFound;
        }
        if (!(await users.RemovePasskeyAsync(user, passkey.CredentialId)).Succeeded)
        {
            return PasskeyChangeResult.Failed;
        }
        await audit.RecordAsync(SecurityEventTypes.PasskeyRemoved, user.Id, user.UserName, sessionId, cancellationToken: cancellationToken);
        await sessions.EndAllAsync(user.Id, SessionEndReasons.PasskeysChanged, user.Id, sessionId, cancellationToken);
        await notices.PasskeyRemovedAsync(user, passkey.Name ?? "unnamed");
        return PasskeyChangeResult.Done;
    }

    private async Task<UserPasskeyInfo?> FindAsync(ApplicationUser user, string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxIdLength)
        {
            return null;
        }
        byte[] credentialId;
        try
        {
            credentialId = WebEncoders.Base64UrlDecode(id);
        }
        catch (FormatException)
        {
            return null;
        }
        return await users.GetPasskeyAsync(user, credentialId);
    }

    /// <summary>The name as typed, trimmed; null when empty or too long.</summary>
    private static string? Clean(string? name) =>
        name?.Trim() is { Length: > 0 and <= MaxNameLength } trimmed && !trimmed.Any(char.IsControl) ? trimmed : null;

    /// <summary>Why, for operators: the user only learns that it did not work. Identity's messages name no secret.</summary>
    [LoggerMessage(EventId = 4300, Level = LogLevel.Information, Message = "A new passkey for user {UserId} was refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string userId, string reason);
}
