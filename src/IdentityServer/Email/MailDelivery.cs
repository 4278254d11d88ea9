using IdentityServer.Audit;

namespace IdentityServer.Email;

/// <summary>
/// Sends a mail now and settles what a failure means: it is logged (the purpose and the error, never
/// the message, which holds a link) and recorded in the audit trail as <c>email_send_failed</c>, and
/// the caller gets false to show a page of its own. Nobody gets a 5xx because the SMTP server is down.
/// </summary>
internal sealed partial class MailDelivery(MailSender sender, AuditLog audit, ILogger<MailDelivery> logger)
{
    public async Task<bool> TrySendAsync(OutgoingMail mail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mail);
        try
        {
            await sender.SendAsync(mail.Message, cancellationToken);
            return true;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The exception's own text only: MailKit's messages name the server and its reply, not the mail.
            LogFailed(logger, mail.Purpose, mail.UserId, exception.GetType().Name, exception.Message);
            await RecordFailureAsync(mail, "send_failed");
            return false;
        }
    }

    /// <summary>Records a mail that was never attempted (the queue was full).</summary>
    public Task RecordFailureAsync(OutgoingMail mail, string reason)
    {
        ArgumentNullException.ThrowIfNull(mail);
        // Recorded even when the request has gone: the failure happened.
        return audit.RecordAsync(SecurityEventTypes.EmailSendFailed, mail.UserId, mail.UserName,
            detail: $"{mail.Purpose} {reason}", cancellationToken: CancellationToken.None);
    }

    [LoggerMessage(EventId = 4301, Level = LogLevel.Error,
        Message = "A {Purpose} mail for user {UserId} could not be sent: {ErrorType}: {Error}")]
    private static partial void LogFailed(ILogger logger, string purpose, string? userId, string errorType, string error);
}
