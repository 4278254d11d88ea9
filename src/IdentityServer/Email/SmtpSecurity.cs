namespace IdentityServer.Email;

/// <summary>How the connection to the SMTP server is protected (<c>Email:Smtp:Security</c>).</summary>
public enum SmtpSecurity
{
    /// <summary>Plain connection upgraded with STARTTLS, which the server must offer (the submission port, 587).</summary>
    StartTls,

    /// <summary>TLS from the first byte (implicit TLS, port 465).</summary>
    SslOnConnect,

    /// <summary>No encryption: only for a relay on this machine (loopback) or in Development.</summary>
    None,
}
