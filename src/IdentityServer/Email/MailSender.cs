using System.Text.RegularExpressions;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace IdentityServer.Email;

/// <summary>
/// Sends one message: to the SMTP server with MailKit, or as an <c>.eml</c> file into the pickup
/// folder (see <see cref="EmailOptions"/>). In Development each link of a written mail is also
/// printed on the console, so the one-command start works without a mail server. The console and
/// not the logger: logs are kept, shipped and scanned for secrets, and their redaction would mask
/// the very token a developer needs to click.
/// </summary>
internal sealed partial class MailSender
{
    private readonly EmailOptions options;
    private readonly bool printLinks;
    private readonly ILogger<MailSender> logger;

    public MailSender(IOptions<EmailOptions> options, IHostEnvironment environment, ILogger<MailSender> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);
        this.options = options.Value;
        this.logger = logger;
        var development = environment.IsDevelopment();
        var smtp = !string.IsNullOrWhiteSpace(this.options.Smtp.Host);
        var folder = this.options.PickupFolder is { Length: > 0 } configured ? configured : development ? EmailOptions.DevelopmentPickupFolder : null;
        Transport = smtp ? MailTransport.Smtp : folder is not null ? MailTransport.PickupFolder : MailTransport.None;
        PickupFolder = Transport == MailTransport.PickupFolder ? Path.GetFullPath(folder!, environment.ContentRootPath) : null;
        printLinks = development && Transport == MailTransport.PickupFolder;
        var from = this.options.From is { Length: > 0 } address ? address : EmailOptions.DevelopmentFrom;
        From = new MailboxAddress(this.options.FromName, from);
    }

    public MailTransport Transport { get; }

    /// <summary>False when the server has nowhere to send mail: features that need it are off.</summary>
    public bool IsEnabled => Transport != MailTransport.None;

    /// <summary>The full path of the pickup folder, when mail goes there.</summary>
    public string? PickupFolder { get; }

    /// <summary>The sender of every mail.</summary>
    public MailboxAddress From { get; }

    /// <summary>The name people know this server by, as it appears in subjects.</summary>
    public string ProductName => options.FromName ?? Branding.BrandingOptions.DefaultProductName;

    /// <summary>Sends the message; throws when it could not be handed over (the SMTP server is down, refused it, ...).</summary>
    public async Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.From.Count == 0)
        {
            message.From.Add(From);
        }
        switch (Transport)
        {
            case MailTransport.Smtp:
                await SendBySmtpAsync(message, cancellationToken);
                break;
            case MailTransport.PickupFolder:
                await WriteToPickupFolderAsync(message, cancellationToken);
                break;
            default:
                throw new InvalidOperationException("No mail transport is configured: set Email:Smtp:Host.");
        }
    }

    private async Task SendBySmtpAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        var smtp = options.Smtp;
        using var client = new SmtpClient { Timeout = (int)smtp.Timeout.TotalMilliseconds };
        var security = smtp.Security switch
        {
            SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
            SmtpSecurity.None => SecureSocketOptions.None,
            // Never StartTlsWhenAvailable: a server (or someone in between) could then turn TLS off.
            _ => SecureSocketOptions.StartTls,
        };
        await client.ConnectAsync(smtp.Host!, smtp.Port, security, cancellationToken);
        if (!string.IsNullOrEmpty(smtp.UserName))
        {
            await client.AuthenticateAsync(smtp.UserName, smtp.Password ?? "", cancellationToken);
        }
        await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }

    private async Task WriteToPickupFolderAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(PickupFolder!);
        var path = Path.Combine(PickupFolder!, $"{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid():N}.eml");
        // Written under another name and then renamed, so whoever watches the folder never reads half a mail.
        var partial = path + ".partial";
        await message.WriteToAsync(partial, cancellationToken);
        File.Move(partial, path);
        LogWritten(logger, path);
        if (printLinks)
        {
            var links = Links().Matches(message.TextBody ?? "").Select(static m => m.Value).Distinct(StringComparer.Ordinal);
            await Console.Out.WriteLineAsync(
                $"Mail to {message.To} \"{message.Subject}\" written to {path}{string.Concat(links.Select(static l => Environment.NewLine + "  " + l))}");
        }
    }

    [GeneratedRegex(@"https?://[^\s<>""]+")]
    private static partial Regex Links();

    [LoggerMessage(EventId = 4300, Level = LogLevel.Information, Message = "Mail written to {Path} (no SMTP server is configured).")]
    private static partial void LogWritten(ILogger logger, string path);
}
