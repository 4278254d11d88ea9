using IdentityServer.Authorization;
using OpenIddict.Abstractions;

namespace IdentityServer.Tests.Authorization;

/// <summary>
/// The server recognises some of OpenIddict's errors by their numbered id. Each id is pinned to the
/// text OpenIddict gives it: a renumbering in an OpenIddict upgrade fails here instead of silently
/// switching off reuse detection or a policy.
/// </summary>
public sealed class OpenIddictErrorIdsTests
{
    public static TheoryData<string, string> Texts => new()
    {
        { OpenIddictErrorIds.CodeRedeemed, "authorization code has already been redeemed" },
        { OpenIddictErrorIds.RefreshTokenRedeemed, "refresh token has already been redeemed" },
        { OpenIddictErrorIds.ScopeNotAllowed, "not allowed to use the specified scope" },
        { OpenIddictErrorIds.ClientCredentialsMissing, "parameter must be specified when using the client credentials grant" },
        { OpenIddictErrorIds.IntrospectionNotAllowed, "not allowed to introspect the specified token" },
        { OpenIddictErrorIds.RevocationNotAllowed, "not allowed to revoke the specified token" },
        { OpenIddictErrorIds.AssertionClaimMalformed, "claim extracted from the specified client assertion is malformed" },
        { OpenIddictErrorIds.AssertionClaimMissing, "claim cannot be found in the specified client assertion" },
        { OpenIddictErrorIds.AssertionClaimMismatch, "claim returned in the specified client assertion doesn't match" },
        { OpenIddictErrorIds.PushedRequestMismatch, "doesn't match the value specified in the request object or pushed authorization request" },
        { OpenIddictErrorIds.AudienceNotAllowed, "not allowed to use the specified audience" },
        { OpenIddictErrorIds.ResourceNotAllowed, "not allowed to use the specified resource" },
        { OpenIddictErrorIds.ConfidentialClientWithoutCredentials, "The client secret cannot be null or empty for a confidential application" },
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void EachId_IsOpenIddictsMessageForThatError(string id, string text) =>
        Assert.Contains(text, OpenIddictResources.GetResourceString(id), StringComparison.Ordinal);

    [Fact]
    public void EveryIdTheServerReads_IsPinned() =>
        Assert.Equal(OpenIddictErrorIds.All.Order(), Texts.Select(row => (string)row[0]).Order());

    [Fact]
    public void Is_MatchesOnlyTheExactErrorUri()
    {
        var uri = OpenIddictResources.FormatID8000(OpenIddictErrorIds.RefreshTokenRedeemed);

        Assert.True(OpenIddictErrorIds.Is(uri, OpenIddictErrorIds.RefreshTokenRedeemed));
        Assert.False(OpenIddictErrorIds.Is(uri, OpenIddictErrorIds.CodeRedeemed));
        Assert.False(OpenIddictErrorIds.Is(uri + "0", OpenIddictErrorIds.RefreshTokenRedeemed));
        Assert.False(OpenIddictErrorIds.Is(null, OpenIddictErrorIds.RefreshTokenRedeemed));
    }
}
