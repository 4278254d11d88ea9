using IdentityServer.Account;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Email;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IdentityServer.Invitations;

/// <summary>
/// Invitations: an account an administrator created has no password; its owner gets a mail with a
/// single-use, expiring link to <c>/Account/AcceptInvitation</c>, chooses a password there, and
/// thereby proves the address (<c>email_verified</c> becomes true). Until then no password can
/// sign in to it: the sign-in page answers with its usual failure.
/// </summary>
internal sealed class Invitation(
    UserManager<ApplicationUser> users,
    ApplicationDbContext database,
    AccountLinks links,
    MailSender mail,
    MailDelivery delivery,
    AuditLog audit,
    IOptions<InvitationOptions> options)
{
    public const string PagePath = "/Account/AcceptInvitation";

    /// <summary>
    /// Sends a new invitation now. The security stamp is renewed first, so a link sent earlier stops
    /// working: only the newest invitation opens the account. False when the mail could not be sent
    /// (recorded as <c>email_send_failed</c>).
    /// </summary>
    public async Task<bool> SendAsync(ApplicationUser user, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var address = user.Email ?? throw new InvalidOperationException("The account has no e-mail address to invite.");
        Check(await users.UpdateSecurityStampAsync(user));
        var token = await users.GenerateUserTokenAsync(user, InvitationTokenProvider.ProviderName, InvitationTokenProvider.Purpose);
        var lifetime = options.Value.InvitationLinkLifetime;
        var message = InvitationMails.Invitation(user.UserName ?? address, links.Create(PagePath, user.Id, token), lifetime)
            .ToMessage(mail.From, mail.ProductName, address);
        var sent = await delivery.TrySendAsync(new OutgoingMail(message, InvitationMails.Purpose, user.Id, user.UserName), cancellationToken);
        if (sent)
        {
            await audit.RecordAsync(SecurityEventTypes.InvitationSent, user.Id, user.UserName, actor: actor, cancellationToken: CancellationToken.None);
        }
        return sent;
    }

    /// <summary>The account a link invites to while it can still be accepted; null otherwise.</summary>
    public async Task<ApplicationUser?> OpenAsync(string? userId, string? encodedToken)
    {
        var token = AccountLinks.DecodeToken(encodedToken);
        if (token is null || string.IsNullOrEmpty(userId) || userId.Length > 450 || await users.FindByIdAsync(userId) is not { } user)
        {
            return null;
        }
        // A password set by any means (an accepted invitation, the seed) ends the invitation; an
        // administrator's lock holds it until lifted.
        return user.PasswordHash is null && user.LockoutEnd != DateTimeOffset.MaxValue
            && await users.VerifyUserTokenAsync(user, InvitationTokenProvider.ProviderName, InvitationTokenProvider.Purpose, token)
            ? user
            : null;
    }

    /// <summary>
    /// Sets the password (Identity's password rules) and marks the address verified, in one save,
    /// if the link is still good. The new security stamp ends the link. Errors are the password
    /// rules the password broke; an invalid link changes nothing.
    /// </summary>
    public async Task<(InvitationLinkState State, IReadOnlyList<string> Errors)> AcceptAsync(
        string? userId, string? encodedToken, string password, CancellationToken cancellationToken)
    {
        if (await OpenAsync(userId, encodedToken) is not { } user)
        {
            return (InvitationLinkState.Invalid, []);
        }
        user.EmailConfirmed = true;
        var result = await users.AddPasswordAsync(user, password);
        if (!result.Succeeded)
        {
            // A failed save leaves the changes on the tracked account: they must not ride along with a later save.
            await database.Entry(user).ReloadAsync(cancellationToken);
            // Accepted meanwhile in another tab: the concurrency stamp refused this save.
            return result.Errors.Any(static e => e.Code is nameof(IdentityErrorDescriber.ConcurrencyFailure) or nameof(IdentityErrorDescriber.UserAlreadyHasPassword))
                ? (InvitationLinkState.Invalid, [])
                : (InvitationLinkState.Valid, [.. result.Errors.Select(static e => e.Description)]);
        }
        await audit.RecordAsync(SecurityEventTypes.InvitationAccepted, user.Id, user.UserName, cancellationToken: CancellationToken.None);
        return (InvitationLinkState.Valid, []);
    }

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException("The account could not be updated: " + string.Join(" ", result.Errors.Select(e => e.Code)));
        }
    }
}
