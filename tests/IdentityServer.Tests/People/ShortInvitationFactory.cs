using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.People;

/// <summary>Invitation links live one second here.</summary>
public sealed class ShortInvitationFactory : MailServerFactory
{
    public ShortInvitationFactory() => Settings["Accounts:InvitationLinkLifetime"] = "00:00:01";
}
