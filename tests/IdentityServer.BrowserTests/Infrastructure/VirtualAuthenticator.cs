using Microsoft.Playwright;

namespace IdentityServer.BrowserTests.Infrastructure;

/// <summary>
/// Chromium's virtual authenticator (DevTools protocol, WebAuthn domain) in one tab: a platform
/// authenticator that keeps discoverable credentials and verifies its user (as a fingerprint
/// would), answering every ceremony without a prompt.
/// </summary>
internal sealed class VirtualAuthenticator
{
    private readonly ICDPSession session;

    private VirtualAuthenticator(ICDPSession session, string id)
    {
        this.session = session;
        Id = id;
    }

    public string Id { get; }

    public static async Task<VirtualAuthenticator> AddAsync(IPage page)
    {
        var session = await page.Context.NewCDPSessionAsync(page);
        await session.SendAsync("WebAuthn.enable", new Dictionary<string, object> { ["enableUI"] = false });
        var result = await session.SendAsync("WebAuthn.addVirtualAuthenticator", new Dictionary<string, object>
        {
            ["options"] = new Dictionary<string, object>
            {
                ["protocol"] = "ctap2",
                ["transport"] = "internal",
                ["hasResidentKey"] = true,
                ["hasUserVerification"] = true,
                ["isUserVerified"] = true,
                ["automaticPresenceSimulation"] = true,
            },
        });
        return new VirtualAuthenticator(session, result!.Value.GetProperty("authenticatorId").GetString()!);
    }

    /// <summary>How many credentials the authenticator holds.</summary>
    public async Task<int> CredentialCountAsync()
    {
        var result = await session.SendAsync("WebAuthn.getCredentials", new Dictionary<string, object> { ["authenticatorId"] = Id });
        return result!.Value.GetProperty("credentials").GetArrayLength();
    }
}
