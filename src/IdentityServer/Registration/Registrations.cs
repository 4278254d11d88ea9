using IdentityServer.Account;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Email;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IdentityServer.Registration;

/// <summary>
/// Self-registration: an account with the password chosen, and a verification link to the address.
/// Such an account cannot sign in until the address is verified (<see cref="MustVerifyAsync"/>).
/// <para>
/// No account enumeration by address: an address that already has an account gets the same answer
/// ("check your mail") after the same work (the password is hashed either way, every mail is queued
/// and sent after the response), and its owner gets a mail saying someone tried. A taken user
/// name has to be said, as on every sign-up page; the per-address rate limit bounds that probing.
/// </para>
/// </summary>
internal sealed class Registrations(
    UserManager<ApplicationUser> users,
    ApplicationDbContext database,
    AccountLinks links,
    MailSender mail,
    MailQueue queue,
    MailDelivery delivery,
    AuditLog audit,
    IOptions<AccountLinkOptions> linkOptions)
{
    /// <summary>Where the marker of a self-registered account is kept (Identity's user tokens: never in a token or userinfo).</summary>
    internal const string MarkerProvider = "IdentityServer";
    internal const string MarkerName = "SelfRegistered";

    public async Task<(RegistrationOutcome Outcome, IReadOnlyList<string> Errors)> RegisterAsync(
        string userName, string email, string password, CancellationToken cancellationToken)
    {
        userName = userName.Trim();
        email = email.Trim();
        // Sign-in and forgot-password look a login up as a user name first: a user name that is
        // someone else's address would capture their sign-ins and reset requests by address.
        if (userName.Contains('@', StringComparison.Ordinal) && !string.Equals(userName, email, StringComparison.OrdinalIgnoreCase))
        {
            return (RegistrationOutcome.Invalid, ["A user name with an @ in it must be the e-mail address you register with."]);
        }
        if (await users.FindByNameAsync(userName) is not null)
        {
            return (RegistrationOutcome.UserNameTaken, []);
        }
        // The password rules first: their answer must not depend on whether the address is taken.
        var passwordErrors = new List<string>();
        foreach (var validator in users.PasswordValidators)
        {
            var result = await validator.ValidateAsync(users, new ApplicationUser { UserName = userName, Email = email }, password);
            passwordErrors.AddRange(result.Errors.Select(static e => e.Description));
        }
        if (passwordErrors.Count > 0)
        {
            return (RegistrationOutcome.Invalid, passwordErrors);
        }

        if (await users.FindByEmailAsync(email) is { } owner)
        {
            // The hashing a new account costs, so the answer takes as long.
            users.PasswordHasher.HashPassword(owner, password);
            await TellOwnerAsync(owner, email);
            return (RegistrationOutcome.CheckYourMail, []);
        }

        var user = new ApplicationUser { UserName = userName, Email = email, EmailConfirmed = false };
        // The marker is saved with the account, in the one save that creates it: an account that
        // exists without it (a failed second save, a crash between two) could sign in unverified.
        var marker = database.UserTokens.Add(new IdentityUserToken<string> { UserId = user.Id, LoginProvider = MarkerProvider, Name = MarkerName, Value = "true" });
        IdentityResult created;
        try
        {
            created = await users.CreateAsync(user, password);
        }
        catch (DbUpdateException)
        {
            // Registered at the same moment by another request: the unique indexes refused this one.
            // Nothing of it may ride along with the next save of this request (the audit record).
            database.Entry(user).State = EntityState.Detached;
            marker.State = EntityState.Detached;
            return await users.FindByNameAsync(userName) is null ? (RegistrationOutcome.CheckYourMail, []) : (RegistrationOutcome.UserNameTaken, []);
        }
        if (!created.Succeeded)
        {
            // Not saved: it must not ride along with the next save of this request.
            marker.State = EntityState.Detached;
            // Registered a moment ago by someone else: the same answer as for an address in use.
            if (created.Errors.Any(static e => e.Code == nameof(IdentityErrorDescriber.DuplicateEmail)))
            {
                return (RegistrationOutcome.CheckYourMail, []);
            }
            return created.Errors.Any(static e => e.Code == nameof(IdentityErrorDescriber.DuplicateUserName))
                ? (RegistrationOutcome.UserNameTaken, [])
                : (RegistrationOutcome.Invalid, [.. created.Errors.Select(static e => e.Description)]);
        }
        await audit.RecordAsync(SecurityEventTypes.UserRegistered, user.Id, user.UserName, cancellationToken: CancellationToken.None);
        await QueueVerificationAsync(user);
        return (RegistrationOutcome.CheckYourMail, []);
    }

    /// <summary>
    /// Whether the account registered itself and has not verified its address yet: then it may not
    /// sign in. Accounts made by the seed or an administrator are not held to this.
    /// </summary>
    public async Task<bool> MustVerifyAsync(ApplicationUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return !user.EmailConfirmed && await users.GetAuthenticationTokenAsync(user, MarkerProvider, MarkerName) is not null;
    }

    /// <summary>Queues a new verification link to the account's address (sent after the response).</summary>
    public async Task QueueVerificationAsync(ApplicationUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var token = await users.GenerateEmailConfirmationTokenAsync(user);
        var message = AccountMails.Verification(user.UserName ?? user.Email!, links.Create(AccountEmail.VerifyPagePath, user.Id, token), linkOptions.Value.EmailVerificationLinkLifetime)
            .ToMessage(mail.From, mail.ProductName, user.Email!);
        var outgoing = new OutgoingMail(message, AccountMails.VerificationPurpose, user.Id, user.UserName);
        if (queue.TryEnqueue(outgoing))
        {
            await audit.RecordAsync(SecurityEventTypes.EmailVerificationRequested, user.Id, user.UserName, cancellationToken: CancellationToken.None);
        }
        else
        {
            await delivery.RecordFailureAsync(outgoing, "queue_full");
        }
    }

    private async Task TellOwnerAsync(ApplicationUser owner, string address)
    {
        var outgoing = new OutgoingMail(RegistrationMails.AddressInUse(owner.UserName ?? address).ToMessage(mail.From, mail.ProductName, owner.Email ?? address),
            RegistrationMails.AddressInUsePurpose, owner.Id, owner.UserName);
        if (!queue.TryEnqueue(outgoing))
        {
            await delivery.RecordFailureAsync(outgoing, "queue_full");
        }
        await audit.RecordAsync(SecurityEventTypes.RegistrationAddressInUse, owner.Id, owner.UserName, cancellationToken: CancellationToken.None);
    }
}
