using System.Net;
using System.Net.Sockets;

namespace IdentityServer.BackchannelLogout;

/// <summary>
/// Where logout tokens may be POSTed. The server sends them from inside its own network, so a
/// back-channel logout URI is a way to make it call whatever that network reaches (SSRF): the cloud
/// metadata service, an admin port on loopback, a database on a private address.
/// <list type="bullet">
/// <item>Never, for any client: the unspecified address, multicast, reserved and broadcast addresses,
/// and cloud metadata endpoints (no client receives logout tokens there).</item>
/// <item>Outside Development, unless the client is listed in
/// <see cref="BackchannelLogoutOptions.AllowPrivateNetworks"/>: loopback, private (RFC 1918,
/// fc00::/7), link-local and shared (carrier-grade NAT, 100.64.0.0/10) addresses.</item>
/// </list>
/// The seed is checked against the URI's literal address or well-known name (<see cref="CheckUri"/>);
/// every delivery is checked again on the addresses the name resolves to when it is sent
/// (<see cref="BackchannelLogoutConnector"/>), so a name pointing at an internal address is refused too.
/// </summary>
internal sealed class BackchannelLogoutTargets(bool isDevelopment, IEnumerable<string> privateNetworkClients)
{
    private static readonly IPAddress AwsMetadataIPv6 = IPAddress.Parse("fd00:ec2::254");

    private static readonly IPAddress GcpMetadataIPv6 = IPAddress.Parse("fd20:ce::254");

    private readonly HashSet<string> privateNetworkClients = new(privateNetworkClients, StringComparer.Ordinal);

    /// <summary>The rules outside Development with no client allowed on private networks.</summary>
    public static BackchannelLogoutTargets Strict { get; } = new(isDevelopment: false, []);

    /// <summary>Development: every client may use private networks (the samples run on loopback).</summary>
    public static BackchannelLogoutTargets Development { get; } = new(isDevelopment: true, []);

    public static BackchannelLogoutTargets For(IHostEnvironment environment, BackchannelLogoutOptions options)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(options);
        return new(environment.IsDevelopment(), options.AllowPrivateNetworks);
    }

    public bool AllowsPrivateNetworks(string clientId) => isDevelopment || privateNetworkClients.Contains(clientId);

    /// <summary>
    /// What is wrong with sending <paramref name="clientId"/>'s logout tokens to <paramref name="uri"/>,
    /// judged from its host as written (a literal address, or a name such as <c>localhost</c>); null when
    /// nothing is. A name that only resolves to an internal address is caught when a delivery is sent.
    /// </summary>
    public string? CheckUri(string clientId, Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var kind = uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 && IPAddress.TryParse(uri.DnsSafeHost, out var address)
            ? Classify(address)
            : ClassifyName(uri.DnsSafeHost);
        return Problem(kind, AllowsPrivateNetworks(clientId));
    }

    /// <summary>What is wrong with connecting to <paramref name="address"/>; null when nothing is.</summary>
    public static string? CheckAddress(IPAddress address, bool allowPrivateNetworks) => Problem(Classify(address), allowPrivateNetworks);

    private static string? Problem(TargetKind kind, bool allowPrivateNetworks) => kind switch
    {
        TargetKind.Public => null,
        TargetKind.Loopback or TargetKind.Private or TargetKind.LinkLocal or TargetKind.SharedAddressSpace when allowPrivateNetworks => null,
        TargetKind.Loopback or TargetKind.Private or TargetKind.LinkLocal or TargetKind.SharedAddressSpace =>
            $"{Describe(kind)}; outside Development only clients listed in {BackchannelLogoutOptions.Section}:{nameof(BackchannelLogoutOptions.AllowPrivateNetworks)} may use loopback, private, link-local or shared addresses",
        _ => $"{Describe(kind)}, which is never allowed",
    };

    private static string Describe(TargetKind kind) => kind switch
    {
        TargetKind.Loopback => "a loopback address",
        TargetKind.Private => "a private network address (RFC 1918, fc00::/7)",
        TargetKind.LinkLocal => "a link-local address (169.254.0.0/16, fe80::/10)",
        TargetKind.SharedAddressSpace => "a shared (carrier-grade NAT) address (100.64.0.0/10)",
        TargetKind.Unspecified => "the unspecified address",
        TargetKind.Metadata => "a cloud metadata endpoint",
        TargetKind.Multicast => "a multicast address",
        _ => "a reserved or broadcast address",
    };

    private static TargetKind ClassifyName(string host)
    {
        var name = host.TrimEnd('.').ToLowerInvariant();
        // RFC 6761: localhost and every name under it are loopback, whatever a resolver says.
        if (name == "localhost" || name.EndsWith(".localhost", StringComparison.Ordinal))
        {
            return TargetKind.Loopback;
        }
        return name == "metadata.google.internal" ? TargetKind.Metadata : TargetKind.Public;
    }

    internal static TargetKind Classify(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return Classify(address.MapToIPv4());
        }
        return address.AddressFamily == AddressFamily.InterNetwork ? ClassifyIPv4(address.GetAddressBytes()) : ClassifyIPv6(address);
    }

    private static TargetKind ClassifyIPv4(byte[] b) => b switch
    {
        [0, ..] => TargetKind.Unspecified,                                   // 0.0.0.0/8, "this network"
        [127, ..] => TargetKind.Loopback,
        [10, ..] or [172, >= 16 and <= 31, ..] or [192, 168, ..] => TargetKind.Private,
        [169, 254, 169, 254] => TargetKind.Metadata,                         // AWS, Azure, GCP, Oracle, OpenStack
        [169, 254, ..] => TargetKind.LinkLocal,
        [100, 100, 100, 200] => TargetKind.Metadata,                         // Alibaba Cloud
        [100, >= 64 and <= 127, ..] => TargetKind.SharedAddressSpace,
        [>= 224 and <= 239, ..] => TargetKind.Multicast,
        [>= 240, ..] => TargetKind.Reserved,                                 // 240.0.0.0/4 and 255.255.255.255
        [192, 0, 0, ..] => TargetKind.Reserved,                              // IETF protocol assignments
        [198, 18 or 19, ..] => TargetKind.Reserved,                          // benchmarking (RFC 2544)
        _ => TargetKind.Public,
    };

    private static TargetKind ClassifyIPv6(IPAddress address)
    {
        var b = address.GetAddressBytes();
        if (address.Equals(IPAddress.IPv6Any))
        {
            return TargetKind.Unspecified;
        }
        if (IPAddress.IsLoopback(address))
        {
            return TargetKind.Loopback;
        }
        if (address.Equals(AwsMetadataIPv6) || address.Equals(GcpMetadataIPv6))
        {
            return TargetKind.Metadata;
        }
        if (b is [0x20, 0x02, ..])
        {
            // 6to4 (2002::/16): the relay connects to the IPv4 address in bytes 2 to 5.
            return ClassifyIPv4(b[2..6]);
        }
        if (b is [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01, ..] or [0x20, 0x01, 0x00, 0x00, ..])
        {
            // Local-use NAT64 (64:ff9b:1::/48, RFC 8215: where the IPv4 address sits depends on the
            // operator's prefix length) and Teredo (2001::/32, an obfuscated IPv4 address): an address
            // we cannot read is not one we connect to.
            return TargetKind.Reserved;
        }
        if (b is [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, ..])
        {
            // NAT64 (64:ff9b::/96): the gateway connects to the IPv4 address in the last four bytes.
            return ClassifyIPv4(b[12..]);
        }
        if (b[..12].All(static x => x == 0))
        {
            // The deprecated IPv4-compatible form (::a.b.c.d) routes nowhere useful.
            return TargetKind.Reserved;
        }
        if (address.IsIPv6UniqueLocal || address.IsIPv6SiteLocal)
        {
            return TargetKind.Private;
        }
        if (address.IsIPv6LinkLocal)
        {
            return TargetKind.LinkLocal;
        }
        return address.IsIPv6Multicast ? TargetKind.Multicast : TargetKind.Public;
    }

    internal enum TargetKind
    {
        Public,
        Loopback,
        Private,
        LinkLocal,
        SharedAddressSpace,
        Unspecified,
        Metadata,
        Multicast,
        Reserved,
    }
}
