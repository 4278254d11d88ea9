using System.Net;
using static IdentityServer.BackchannelLogout.BackchannelLogoutTargets;

namespace IdentityServer.Tests.BackchannelLogout;

/// <summary>How the back-channel target rules read an address, including the forms that hide an IPv4 address in IPv6.</summary>
public sealed class BackchannelLogoutAddressTests
{
    [Theory]
    [InlineData("203.0.114.7", "Public")]
    [InlineData("2a00:1450:4001:80b::200e", "Public")]
    [InlineData("127.0.0.1", "Loopback")]
    [InlineData("::1", "Loopback")]
    [InlineData("::ffff:127.0.0.1", "Loopback")]
    [InlineData("10.1.2.3", "Private")]
    [InlineData("fd12:3456::1", "Private")]
    [InlineData("169.254.169.254", "Metadata")]
    [InlineData("::ffff:169.254.169.254", "Metadata")]
    [InlineData("fd00:ec2::254", "Metadata")]
    [InlineData("fd20:ce::254", "Metadata")]
    [InlineData("64:ff9b::a9fe:a9fe", "Metadata")]
    [InlineData("64:ff9b::a00:5", "Private")]
    [InlineData("2002:a9fe:a9fe::1", "Metadata")]
    [InlineData("2002:7f00:1::1", "Loopback")]
    [InlineData("2002:cb00:7207::1", "Public")]
    [InlineData("64:ff9b:1::a00:5", "Reserved")]
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Reserved")]
    [InlineData("192.0.0.170", "Reserved")]
    [InlineData("198.18.0.1", "Reserved")]
    [InlineData("0.0.0.0", "Unspecified")]
    [InlineData("::", "Unspecified")]
    [InlineData("fe80::1%2", "LinkLocal")]
    [InlineData("100.64.0.1", "SharedAddressSpace")]
    public void Classify_Address_IsReadAsItsKind(string address, string expected) =>
        Assert.Equal(expected, Classify(IPAddress.Parse(address)).ToString());
}
