using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Options;
using MimeKit;

namespace IdentityServer.Email;

/// <summary>
/// Checks the <c>Email</c> section at start, naming the setting at fault: a sender address with an
/// SMTP server, and no plain-text SMTP except to a relay on this machine or in Development (the
/// credentials and every reset link would cross the network readable).
/// </summary>
internal sealed class EmailOptionsValidation(IHostEnvironment environment) : IValidateOptions<EmailOptions>
{
    public ValidateOptionsResult Validate(string? name, EmailOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var smtp = options.Smtp;
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(smtp, new ValidationContext(smtp), results, validateAllProperties: true);
        failures.AddRange(results.Select(static r => $"{EmailOptions.Section}:Smtp:{r.MemberNames.FirstOrDefault()}: {r.ErrorMessage}"));

        if (!string.IsNullOrWhiteSpace(options.From) && !MailboxAddress.TryParse(options.From, out _))
        {
            failures.Add($"{EmailOptions.Section}:From '{options.From}' is not an e-mail address.");
        }
        if (string.IsNullOrWhiteSpace(options.FromName))
        {
            failures.Add($"{EmailOptions.Section}:FromName must not be empty: it names the server in every mail.");
        }
        if (!string.IsNullOrWhiteSpace(smtp.Host))
        {
            if (string.IsNullOrWhiteSpace(options.From))
            {
                failures.Add($"{EmailOptions.Section}:From is required when {EmailOptions.Section}:Smtp:Host is set: the address mail is sent from.");
            }
            if (!Enum.IsDefined(smtp.Security))
            {
                failures.Add($"{EmailOptions.Section}:Smtp:Security must be StartTls, SslOnConnect or None.");
            }
            else if (smtp.Security == SmtpSecurity.None && !environment.IsDevelopment() && !IsLoopback(smtp.Host))
            {
                failures.Add($"{EmailOptions.Section}:Smtp:Security None sends credentials and reset links unencrypted; it is allowed only for a loopback host (a relay on this machine) or in Development. Use StartTls or SslOnConnect for '{smtp.Host}'.");
            }
            if (string.IsNullOrEmpty(smtp.UserName) && !string.IsNullOrEmpty(smtp.Password))
            {
                failures.Add($"{EmailOptions.Section}:Smtp:Password is set without {EmailOptions.Section}:Smtp:UserName.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
