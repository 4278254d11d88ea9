using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Email;
using IdentityServer.Sessions;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IdentityServer.Account;

/// <summary>
/// An account's e-mail address: <c>email_verified</c> (Identity's <c>EmailConfirmed</c>) becomes
/// true only when someone follows the verification link sent to it, and a new address replaces the
/// old one only when its link (Identity's change-email token, bound to that address) is followed.
/// A change renews the security stamp, as Identity does, so reset and verification links sent
/// before it die, and the account's other sessions end (their refresh tokens would fail anyway).
/// </summary>
internal sealed class AccountEmail(
    UserManager<ApplicationUser> users,
    ApplicationDbContext database,
    AccountLinks links,
    MailSender mail,
    MailDelivery delivery,
    MailQueue queue,
    SessionService sessions,
    AuditLog audit,
    IOptions<AccountLinkOptions> linkOptions)
{
    public const string VerifyPagePath = "/Account/ConfirmEmail";
    public const string ChangePagePath = "/Account/ConfirmEmailChange";

    /// <summary>Sends the verification link to the account's current address now; false when the mail could not be sent.</summary>
    public async Task<bool> SendVerificationAsync(ApplicationUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var address = user.Email ?? throw new InvalidOperationException("The account has no e-mail address to verify.");
        var token = await users.GenerateEmailConfirmationTokenAsync(user);
        var message = AccountMails.Verification(user.UserName ?? address, links.Create(VerifyPagePath, user.Id, token), linkOptions.Value.EmailVerificationLinkLifetime)
            .ToMessage(mail.From, mail.ProductName, address);
        var sent = await delivery.TrySendAsync(new OutgoingMail(message, AccountMails.VerificationPurpose, user.Id, user.UserName), cancellationToken);
        if (sent)
        {
            await audit.RecordAsync(SecurityEventTypes.EmailVerificationRequested, user.Id, user.UserName, cancellationToken: CancellationToken.None);
        }
        return sent;
    }

    /// <summary>
    /// Sends the change link to the new address. An address that already belongs to another account
    /// gets a notice instead, and the caller answers as if the link went out: the page must not
    /// tell a signed-in user which addresses have accounts. False when the mail could not be sent.
    /// </summary>
    public async Task<bool> RequestChangeAsync(ApplicationUser user, string newAddress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(newAddress);
        var owner = await users.FindByEmailAsync(newAddress);
        OutgoingMail outgoing;
        if (owner is not null && owner.Id != user.Id)
        {
            outgoing = new OutgoingMail(AccountMails.AddressInUse().ToMessage(mail.From, mail.ProductName, newAddress),
                AccountMails.AddressInUsePurpose, user.Id, user.UserName);
        }
        else
        {
            var token = await users.GenerateChangeEmailTokenAsync(user, newAddress);
            var link = links.Create(ChangePagePath, user.Id, token, [new("email", newAddress)]);
            var template = AccountMails.Change(user.UserName ?? newAddress, newAddress, link, linkOptions.Value.EmailChangeLinkLifetime);
            outgoing = new OutgoingMail(template.ToMessage(mail.From, mail.ProductName, newAddress), AccountMails.ChangePurpose, user.Id, user.UserName);
        }
        var sent = await delivery.TrySendAsync(outgoing, cancellationToken);
        if (sent)
        {
            await audit.RecordAsync(SecurityEventTypes.EmailChangeRequested, user.Id, user.UserName,
                detail: outgoing.Purpose == AccountMails.AddressInUsePurpose ? "address_in_use" : null, cancellationToken: CancellationToken.None);
        }
        return sent;
    }

    /// <summary>The account a verification link is for, while it can still verify: null once the address is verified (a used link).</summary>
    public async Task<ApplicationUser?> OpenVerificationLinkAsync(string? userId, string? encodedToken)
    {
        var (user, token) = await FindAsync(userId, encodedToken);
        return user is { EmailConfirmed: false, Email: not null }
            && await users.VerifyUserTokenAsync(user, users.Options.Tokens.EmailConfirmationTokenProvider, UserManager<ApplicationUser>.ConfirmEmailTokenPurpose, token!)
            ? user
            : null;
    }

    /// <summary>Marks the address verified if the link is still good and returns the account; null otherwise (nothing changed).</summary>
    public async Task<ApplicationUser?> VerifyAsync(string? userId, string? encodedToken)
    {
        if (await OpenVerificationLinkAsync(userId, encodedToken) is not { } user)
        {
            return null;
        }
        if (!(await users.ConfirmEmailAsync(user, AccountLinks.DecodeToken(encodedToken)!)).Succeeded)
        {
            // A failed save leaves the change on the tracked account: it must not ride along with a later save.
            await database.Entry(user).ReloadAsync();
            return null;
        }
        await audit.RecordAsync(SecurityEventTypes.EmailVerified, user.Id, user.UserName, cancellationToken: CancellationToken.None);
        return user;
    }

    /// <summary>The account a change link is for, while it can still change the address.</summary>
    public async Task<ApplicationUser?> OpenChangeLinkAsync(string? userId, string? newAddress, string? encodedToken)
    {
        var (user, token) = await FindAsync(userId, encodedToken);
        return user is not null && !string.IsNullOrEmpty(newAddress) && newAddress.Length <= 256
            && await users.VerifyUserTokenAsync(user, users.Options.Tokens.ChangeEmailTokenProvider, UserManager<ApplicationUser>.GetChangeEmailTokenPurpose(newAddress), token!)
            ? user
            : null;
    }

    /// <summary>
    /// Makes the new address the account's, verified, if the link is still good; ends the account's
    /// sessions but <paramref name="keepSessionId"/> (the browser that followed the link, when it is
    /// signed in to this account) and tells the old address.
    /// </summary>
    public async Task<(EmailChangeResult Result, ApplicationUser? User)> ChangeAsync(
        string? userId, string? newAddress, string? encodedToken, string? keepSessionId, CancellationToken cancellationToken)
    {
        if (await OpenChangeLinkAsync(userId, newAddress, encodedToken) is not { } user)
        {
            return (EmailChangeResult.InvalidLink, null);
        }
        var oldAddress = user.Email;
        var result = await users.ChangeEmailAsync(user, newAddress!, AccountLinks.DecodeToken(encodedToken)!);
        if (!result.Succeeded)
        {
            await database.Entry(user).ReloadAsync(cancellationToken);
            return (result.Errors.Any(static e => e.Code == nameof(IdentityErrorDescriber.DuplicateEmail)) ? EmailChangeResult.AddressInUse : EmailChangeResult.InvalidLink, null);
        }

        await sessions.EndAllAsync(user.Id, SessionEndReasons.EmailChanged, user.Id, keepSessionId, cancellationToken);
        await audit.RecordAsync(SecurityEventTypes.EmailChanged, user.Id, user.UserName, keepSessionId, cancellationToken: CancellationToken.None);
        if (!string.IsNullOrEmpty(oldAddress) && !string.Equals(oldAddress, newAddress, StringComparison.OrdinalIgnoreCase))
        {
            var notice = new OutgoingMail(AccountMails.ChangedNotice(user.UserName ?? newAddress!, newAddress!).ToMessage(mail.From, mail.ProductName, oldAddress),
                AccountMails.ChangedNoticePurpose, user.Id, user.UserName);
            if (!queue.TryEnqueue(notice))
            {
                await delivery.RecordFailureAsync(notice, "queue_full");
            }
        }
        return (EmailChangeResult.Changed, user);
    }

    private async Task<(ApplicationUser? User, string? Token)> FindAsync(string? userId, string? encodedToken)
    {
        var token = AccountLinks.DecodeToken(encodedToken);
        return token is null || string.IsNullOrEmpty(userId) || userId.Length > 450 ? (null, null) : (await users.FindByIdAsync(userId), token);
    }
}
