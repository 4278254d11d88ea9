using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.BrowserTests.Infrastructure;

/// <summary>The server of <see cref="IdentityServerHost"/> with its mail going to a <see cref="TestMailServer"/> in the test process.</summary>
public sealed class MailServerHost : IDisposable
{
    public MailServerHost()
    {
        Mail = new TestMailServer();
        Server = new IdentityServerHost(Mail.Settings);
    }

    public TestMailServer Mail { get; }

    public IdentityServerHost Server { get; }

    public void Dispose()
    {
        Server.Dispose();
        Mail.Dispose();
    }
}
