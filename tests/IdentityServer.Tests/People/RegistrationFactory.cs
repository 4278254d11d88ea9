using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.People;

/// <summary>A host with self-registration on.</summary>
public class RegistrationFactory : MailServerFactory
{
    public RegistrationFactory() => Settings["Accounts:AllowRegistration"] = "true";
}
