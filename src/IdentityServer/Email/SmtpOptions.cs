using System.ComponentModel.DataAnnotations;

namespace IdentityServer.Email;

/// <summary>The SMTP server mail is handed to, bound from <c>Email:Smtp</c>.</summary>
public sealed class SmtpOptions
{
    /// <summary>Host name or address; empty means no SMTP server (see <see cref="EmailOptions"/>).</summary>
    public string? Host { get; set; }

    [Range(1, 65535)]
    public int Port { get; set; } = 587;

    public SmtpSecurity Security { get; set; } = SmtpSecurity.StartTls;

    /// <summary>Account to authenticate with; none when empty (a relay that trusts this host).</summary>
    public string? UserName { get; set; }

    public string? Password { get; set; }

    /// <summary>How long one connection, command or reply may take before the send fails.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}
