namespace IdentityServer.Email;

/// <summary>Where outgoing mail goes, decided once at start from <see cref="EmailOptions"/> and the environment.</summary>
public enum MailTransport
{
    /// <summary>No SMTP server and no pickup folder outside Development: nothing is sent.</summary>
    None,

    /// <summary>Handed to <c>Email:Smtp:Host</c>.</summary>
    Smtp,

    /// <summary>Written as <c>.eml</c> files into the pickup folder.</summary>
    PickupFolder,
}
