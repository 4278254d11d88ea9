using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IdentityServer.Tests.BackchannelLogout;

/// <summary>
/// A client application's back-channel logout endpoint on real Kestrel (loopback, any free port):
/// records every POST to <c>/logout/{client}</c> and answers with <see cref="Status"/>.
/// </summary>
public sealed class LogoutReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<LogoutReceipt> receipts = new();

    private LogoutReceiver(WebApplication app) => this.app = app;

    /// <summary>What every request is answered with; changeable while running.</summary>
    public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyList<LogoutReceipt> Receipts => [.. receipts];

    public Uri UriFor(string client) => new(BaseAddress, "logout/" + client);

    public void Clear() => receipts.Clear();

    public static LogoutReceiver Start()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var receiver = new LogoutReceiver(builder.Build());
        receiver.app.MapPost("/logout/{client}", async (HttpContext context, string client) =>
        {
            var form = await context.Request.ReadFormAsync();
            receiver.receipts.Enqueue(new LogoutReceipt(client, context.Request.ContentType, form["logout_token"].ToString(), form.Count));
            // A body the identity provider must never store or log.
            context.Response.StatusCode = (int)receiver.Status;
            await context.Response.WriteAsync("receiver-body-must-not-be-recorded");
        });
        receiver.app.StartAsync().GetAwaiter().GetResult();
        var address = receiver.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.BaseAddress = new Uri(address.TrimEnd('/') + "/");
        return receiver;
    }

    /// <summary>Waits (polling, with a deadline) until <paramref name="condition"/> holds for the receipts.</summary>
    public async Task<IReadOnlyList<LogoutReceipt>> WaitForAsync(Func<IReadOnlyList<LogoutReceipt>, bool> condition, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (!condition(Receipts))
        {
            await Task.Delay(50, deadline.Token);
        }
        return Receipts;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>One POST the receiver got: for which client, its content type and the form's logout_token.</summary>
public sealed record LogoutReceipt(string Client, string? ContentType, string LogoutToken, int FormFields);
