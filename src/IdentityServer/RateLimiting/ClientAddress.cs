using System.Net;
using System.Net.Sockets;

namespace IdentityServer.RateLimiting;

/// <summary>The caller's address as a rate-limit partition, after the forwarded-headers step has run.</summary>
internal static class ClientAddress
{
    /// <summary>
    /// IPv4 addresses are their own partition; IPv6 addresses are grouped by their /64 network, since
    /// one host usually holds a whole /64 and could otherwise step through fresh addresses.
    /// </summary>
    public static string PartitionKey(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }
}
