using System.Net;
using System.Net.Sockets;

namespace IdentityServer.BackchannelLogout;

/// <summary>
/// How the back-channel HTTP clients open connections (<see cref="SocketsHttpHandler.ConnectCallback"/>):
/// resolve the host once, refuse if any address it resolves to is not an allowed target
/// (<see cref="BackchannelLogoutTargets"/>), then connect to exactly those checked addresses. Checking
/// and connecting on one resolution is what keeps a name from resolving to a public address for the
/// check and to an internal one for the connection (DNS rebinding). One connector, and one connection
/// pool, per policy: a connection opened for a client allowed on private networks is never reused
/// for a client that is not.
/// </summary>
internal sealed class BackchannelLogoutConnector(bool allowPrivateNetworks)
{
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var endpoint = context.DnsEndPoint;
        var addresses = IPAddress.TryParse(endpoint.Host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }
        foreach (var address in addresses)
        {
            if (BackchannelLogoutTargets.CheckAddress(address, allowPrivateNetworks) is { } problem)
            {
                throw new BackchannelLogoutTargetRefusedException(literal is null ? $"{endpoint.Host} resolves to {address}, {problem}" : $"{address} is {problem}");
            }
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, endpoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>A logout token was not sent because its URI leads to an address the client may not use.</summary>
public sealed class BackchannelLogoutTargetRefusedException : Exception
{
    public BackchannelLogoutTargetRefusedException(string message) : base(message)
    {
    }

    public BackchannelLogoutTargetRefusedException(string message, Exception inner) : base(message, inner)
    {
    }

    public BackchannelLogoutTargetRefusedException()
    {
    }
}
