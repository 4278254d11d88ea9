namespace IdentityServer.Registration;

/// <summary>Self-registration, bound from the <c>Accounts</c> section.</summary>
public sealed class RegistrationOptions
{
    public const string Section = "Accounts";

    /// <summary>
    /// Lets anyone create an account on <c>/Account/Register</c>. Off by default: most deployments
    /// serve one organisation, whose administrators create the accounts (and invite their owners).
    /// </summary>
    public bool AllowRegistration { get; set; }
}
