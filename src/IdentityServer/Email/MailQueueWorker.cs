using Microsoft.Extensions.Options;

namespace IdentityServer.Email;

/// <summary>
/// Sends queued mail one message at a time, each in its own scope (its failure goes into the audit
/// trail), and says at start where mail goes.
/// </summary>
internal sealed partial class MailQueueWorker(
    MailQueue queue,
    MailSender sender,
    IServiceScopeFactory scopes,
    IOptions<EmailOptions> options,
    ILogger<MailQueueWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        switch (sender.Transport)
        {
            case MailTransport.Smtp:
                LogSmtp(logger, options.Value.Smtp.Host!, options.Value.Smtp.Port, options.Value.Smtp.Security);
                break;
            case MailTransport.PickupFolder:
                LogPickupFolder(logger, sender.PickupFolder!);
                break;
            default:
                LogNoMail(logger);
                return;
        }

        await foreach (var mail in queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<MailDelivery>().TrySendAsync(mail, stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                // Recording the failure failed too (the database is away): a background service that
                // throws stops the host, and one lost mail must not take the server down.
                LogUnrecorded(logger, mail.Purpose, mail.UserId, exception);
            }
        }
    }

    [LoggerMessage(EventId = 4305, Level = LogLevel.Error, Message = "A {Purpose} mail for user {UserId} could not be sent, and the failure could not be recorded.")]
    private static partial void LogUnrecorded(ILogger logger, string purpose, string? userId, Exception exception);

    [LoggerMessage(EventId = 4302, Level = LogLevel.Information, Message = "Mail is sent through the SMTP server {Host}:{Port} ({Security}).")]
    private static partial void LogSmtp(ILogger logger, string host, int port, SmtpSecurity security);

    [LoggerMessage(EventId = 4303, Level = LogLevel.Warning,
        Message = "Email:Smtp:Host is not set: mail is written to {Folder} as .eml files, not sent.")]
    private static partial void LogPickupFolder(ILogger logger, string folder);

    [LoggerMessage(EventId = 4304, Level = LogLevel.Warning,
        Message = "Email:Smtp:Host is not set: the server sends no mail. Forgot password and e-mail verification are off until it is.")]
    private static partial void LogNoMail(ILogger logger);
}
