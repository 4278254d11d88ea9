namespace IdentityServer.Tests.People;

/// <summary>Two registrations per address per half hour here.</summary>
public sealed class RegistrationLimitFactory : RegistrationFactory
{
    public RegistrationLimitFactory()
    {
        Settings["RateLimits:RegistrationPerIp:PermitLimit"] = "2";
        Settings["RateLimits:RegistrationPerIp:Window"] = "00:30:00";
    }
}
