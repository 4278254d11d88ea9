using System.Buffers;
using System.Net;
using System.Text.RegularExpressions;
using MimeKit;
using SmtpServer;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// A real SMTP server in the test process (the SmtpServer package) on a free loopback port, plain
/// text, no authentication. It keeps every message it accepts, parsed with MimeKit; a test awaits
/// "the next mail to alice@example.com" and follows its links. Only SmtpServer, MimeKit and the
/// base library are used here, so other test projects can link this file as it is.
/// </summary>
public sealed partial class TestMailServer : IDisposable
{
    /// <summary>How long <see cref="NextMailToAsync"/> waits by default: mail is sent after the response, on a loaded machine.</summary>
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(15);

    private readonly Lock gate = new();
    private readonly List<MimeMessage> received = [];
    private readonly List<MimeMessage> unread = [];
    private readonly List<(string Address, TaskCompletionSource<MimeMessage> Waiter)> waiters = [];
    private readonly Action<MimeMessage>? onReceived;
    private readonly CancellationTokenSource stop = new();
    private readonly SmtpServer.SmtpServer server;
    private readonly Task running;
    private int disposed;

    /// <param name="onReceived">Called with each message as it arrives (for example, to note its links as secrets).</param>
    public TestMailServer(Action<MimeMessage>? onReceived = null)
    {
        this.onReceived = onReceived;
        var started = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listeners = new EndpointListenerFactory();
        listeners.EndpointStarted += (_, e) => started.TrySetResult(((IPEndPoint)e.LocalEndPoint).Port);
        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(endpoint => endpoint.Endpoint(new IPEndPoint(IPAddress.Loopback, 0)))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(listeners);
        services.Add(new Store(this));
        server = new SmtpServer.SmtpServer(options, services);
        running = server.StartAsync(stop.Token);
        Port = started.Task.WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
    }

    public string Host => "127.0.0.1";

    public int Port { get; }

    /// <summary>Settings that send a server's mail here (<c>Email:*</c> configuration keys).</summary>
    public IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Email:Smtp:Host"] = Host,
        ["Email:Smtp:Port"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Email:Smtp:Security"] = "None",
        ["Email:From"] = "identity@example.test",
    };

    /// <summary>Every message received so far, in order.</summary>
    public IReadOnlyList<MimeMessage> Received
    {
        get
        {
            lock (gate)
            {
                return [.. received];
            }
        }
    }

    /// <summary>The oldest message to the address not yet taken by this method; waits for one to arrive.</summary>
    public async Task<MimeMessage> NextMailToAsync(string address, TimeSpan? wait = null) =>
        await TryNextMailToAsync(address, wait ?? DefaultWait)
        ?? throw new TimeoutException($"No mail to {address} arrived within {(wait ?? DefaultWait).TotalSeconds} s.");

    /// <summary>As <see cref="NextMailToAsync"/>, but null when none arrives in time (to show that no mail was sent).</summary>
    public async Task<MimeMessage?> TryNextMailToAsync(string address, TimeSpan wait)
    {
        TaskCompletionSource<MimeMessage> waiter;
        lock (gate)
        {
            if (unread.FirstOrDefault(m => IsTo(m, address)) is { } message)
            {
                unread.Remove(message);
                return message;
            }
            waiter = new TaskCompletionSource<MimeMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
            waiters.Add((address, waiter));
        }
        try
        {
            return await waiter.Task.WaitAsync(wait);
        }
        catch (TimeoutException)
        {
            lock (gate)
            {
                waiters.RemoveAll(w => w.Waiter == waiter);
            }
            // Delivered to the waiter just as the wait ran out: it is still the answer.
            return waiter.Task.IsCompletedSuccessfully ? waiter.Task.Result : null;
        }
    }

    /// <summary>The links of a message's text part, in order.</summary>
    public static IReadOnlyList<Uri> Links(MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return [.. LinkPattern().Matches(message.TextBody ?? "").Select(static m => new Uri(m.Value))];
    }

    /// <summary>The one link of a message (a reset, verification or invitation mail has exactly one).</summary>
    public static Uri Link(MimeMessage message) => Links(message) is [var link] ? link
        : throw new InvalidOperationException($"Expected one link in \"{message.Subject}\", found {Links(message).Count}.");

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }
        stop.Cancel();
        server.Shutdown();
        try
        {
            running.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Cancelled on purpose.
        }
        stop.Dispose();
    }

    private static bool IsTo(MimeMessage message, string address) =>
        message.To.Mailboxes.Any(m => string.Equals(m.Address, address, StringComparison.OrdinalIgnoreCase));

    private void Accept(MimeMessage message)
    {
        onReceived?.Invoke(message);
        lock (gate)
        {
            received.Add(message);
            var index = waiters.FindIndex(w => IsTo(message, w.Address));
            if (index >= 0)
            {
                var waiter = waiters[index].Waiter;
                waiters.RemoveAt(index);
                waiter.TrySetResult(message);
                return;
            }
            unread.Add(message);
        }
    }

    [GeneratedRegex(@"https?://[^\s<>""]+")]
    private static partial Regex LinkPattern();

    private sealed class Store(TestMailServer owner) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(buffer.ToArray());
            owner.Accept(await MimeMessage.LoadAsync(stream, cancellationToken));
            return SmtpResponse.Ok;
        }
    }
}
