using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;

namespace IdentityServer.BrowserTests.Infrastructure;

/// <summary>
/// Stands in for the demo web app, whose redirect URI has nothing listening in tests. The browser reaches
/// it as its HTTP proxy for every host but the identity provider. A Playwright route cannot do this job:
/// routes only see the first URL of a redirect chain, and the hop back to the client is always a redirect,
/// so it would go to the real port (refused, or a developer's own app there, which would spend the code).
/// </summary>
internal sealed class ClientAppStub : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<Uri> requests = new();

    private ClientAppStub(WebApplication app) => this.app = app;

    /// <summary>The stub's own address, to use as the browser's proxy.</summary>
    public Uri ProxyAddress { get; private set; } = null!;

    /// <summary>Every URL the browser asked the demo app for, in order (favicon requests included).</summary>
    public IReadOnlyList<Uri> Requests => [.. requests];

    public static async Task<ClientAppStub> StartAsync(Uri clientOrigin)
    {
        // Empty builder: no configuration files or logging from the test's folder, just Kestrel.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var stub = new ClientAppStub(app);
        app.Run(async context =>
        {
            // A proxied request names its target in absolute form; Kestrel puts that authority in Host.
            var url = new Uri(context.Request.GetEncodedUrl());
            if (url.GetLeftPart(UriPartial.Authority) != clientOrigin.GetLeftPart(UriPartial.Authority))
            {
                // Chromium's own background requests come here too; tests have no outside network.
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
                return;
            }
            stub.requests.Enqueue(url);
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("demo web app");
        });
        await app.StartAsync();
        stub.ProxyAddress = new Uri(app.Urls.Single());
        return stub;
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
