using IdentityServer.Localization;
using IdentityServer.Data;
using IdentityServer.Email;

namespace IdentityServer.Account;

/// <summary>
/// Tells the owner, by mail, when a way to sign in was added to or taken from their account (an
/// authenticator app, a passkey). A second factor is first set up after a password sign-in, so a
/// stolen password could add one; this mail is how the owner learns of it. Sent after the response
/// (the mail queue), only to a verified address, and never with a link: it asks the reader to act
/// through the pages they already know.
/// </summary>
internal sealed class SecurityNotices(MailSender mail, MailQueue queue, MailDelivery delivery, TimeProvider clock)
{
    public const string Purpose = "security_notice";

    public Task AuthenticatorEnabledAsync(ApplicationUser user) => QueueAsync(user, Texts.Get("An authenticator app was turned on"));

    public Task AuthenticatorDisabledAsync(ApplicationUser user, bool byAdministrator) =>
        QueueAsync(user, byAdministrator ? Texts.Get("An administrator turned off the authenticator app") : Texts.Get("The authenticator app was turned off"));

    public Task PasskeyAddedAsync(ApplicationUser user, string name) => QueueAsync(user, Texts.Get("A passkey ({0}) was added", name));

    public Task PasskeyRemovedAsync(ApplicationUser user, string name) => QueueAsync(user, Texts.Get("A passkey ({0}) was removed", name));

    private async Task QueueAsync(ApplicationUser user, string what)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!mail.IsEnabled || user.Email is null || !user.EmailConfirmed)
        {
            return;
        }
        var message = AccountMails.SecurityNotice(user.UserName ?? user.Email, what, clock.GetUtcNow())
            .ToMessage(mail.From, mail.ProductName, user.Email);
        var outgoing = new OutgoingMail(message, Purpose, user.Id, user.UserName);
        if (!queue.TryEnqueue(outgoing))
        {
            await delivery.RecordFailureAsync(outgoing, "queue_full");
        }
    }
}
