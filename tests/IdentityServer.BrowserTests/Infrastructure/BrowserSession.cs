using System.Collections.Concurrent;
using IdentityServer.Seeding;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Playwright;

namespace IdentityServer.BrowserTests.Infrastructure;

/// <summary>
/// One user's browser: its own cookie jar, one tab, and a stand-in for the demo web app at its
/// redirect URI so that a flow can end there.
/// </summary>
internal sealed class BrowserSession : IAsyncDisposable
{
    private static readonly Uri ClientRedirectUri = new(DevelopmentSeed.WebRedirectUri);

    private readonly Uri server;
    private readonly ClientAppStub client;
    private readonly ConcurrentQueue<(Uri Url, int Status)> navigations = new();
    private int callbacksTaken;

    private BrowserSession(IBrowserContext context, IPage page, Uri server, ClientAppStub client)
    {
        Context = context;
        Page = page;
        this.server = server;
        this.client = client;
        Login = new LoginPage(page);
        Consent = new ConsentPage(page);
        // Redirects count too: they show whether the server answered a hop with a page or passed straight through.
        page.Response += (_, response) =>
        {
            if (response.Request.IsNavigationRequest && response.Frame == page.MainFrame)
            {
                navigations.Enqueue((new Uri(response.Url), response.Status));
            }
        };
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public LoginPage Login { get; }

    public ConsentPage Consent { get; }

    /// <summary>Every main-frame response so far, in order, redirects included.</summary>
    public IReadOnlyList<(Uri Url, int Status)> Navigations => [.. navigations];

    /// <param name="javaScriptEnabled">False for a browser that runs no script: the pages must work without it.</param>
    public static async Task<BrowserSession> OpenAsync(IBrowser browser, Uri server, bool javaScriptEnabled = true)
    {
        var client = await ClientAppStub.StartAsync(ClientRedirectUri);
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            JavaScriptEnabled = javaScriptEnabled,
            Proxy = new Proxy
            {
                Server = client.ProxyAddress.GetLeftPart(UriPartial.Authority),
                // The identity provider is reached directly. Naming it stops Playwright from proxying
                // loopback hosts by itself, so "<-loopback>" asks for that explicitly: localhost:5002 must
                // go to the stub. With its port, so that a server browsed as localhost is told apart from the stub.
                Bypass = $"<-loopback>,{server.Authority}",
            },
        });
        // The shared budget of both browser projects: in CI the browser shares two cores with the
        // other test assemblies' servers, and 10 s once ran out while a page was still loading.
        context.SetDefaultTimeout(Chromium.DefaultTimeout);
        var page = await context.NewPageAsync();
        return new BrowserSession(context, page, server, client);
    }

    public async Task StartAsync(AuthorizationRequest request) => await Page.GotoAsync(request.Url(server));

    /// <summary>Waits until the browser has been sent back to the client and returns that URL's query.</summary>
    public async Task<IReadOnlyDictionary<string, string>> WaitForClientCallbackAsync()
    {
        await Page.WaitForURLAsync(url => url.StartsWith(ClientRedirectUri.AbsoluteUri + "?", StringComparison.Ordinal));
        // Each call takes the callback it waited for, so a session can run several round trips.
        var callbacks = client.Requests.Where(u => u.GetLeftPart(UriPartial.Path) == ClientRedirectUri.AbsoluteUri).ToList();
        Assert.Equal(callbacksTaken + 1, callbacks.Count);
        var callback = callbacks[callbacksTaken++];
        Assert.Equal(Page.Url, callback.AbsoluteUri);
        return QueryHelpers.ParseQuery(callback.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
    }

    public async Task<BrowserContextCookiesResult?> CookieAsync(string name) =>
        (await Context.CookiesAsync([server.AbsoluteUri])).SingleOrDefault(c => c.Name == name);

    public async ValueTask DisposeAsync()
    {
        await Context.DisposeAsync();
        await client.DisposeAsync();
    }
}
