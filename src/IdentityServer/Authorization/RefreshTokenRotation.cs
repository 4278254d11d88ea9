using System.Security.Claims;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Authorization;

/// <summary>
/// Refresh-token rotation: every use of a refresh token redeems it, and OpenIddict issues the next one.
/// Two rules keep one grant one chain of refresh tokens:
/// <list type="bullet">
/// <item>Of simultaneous uses of one refresh token exactly one wins: the redemption is written here
/// with optimistic concurrency before any token is issued (OpenIddict alone tolerates concurrent uses).</item>
/// <item>A replay inside the configured reuse leeway (<c>IdentityServer:RefreshTokenReuseLeeway</c>, 0
/// by default) continues the chain instead of forking it: every token the earlier use produced (and
/// anything issued from those since) is revoked before the replay gets its new tokens. Without this,
/// both answers would hold a live refresh token and reuse detection would never see the fork.</item>
/// </list>
/// A replay after the leeway never reaches this class: OpenIddict refuses it and revokes the grant,
/// and <see cref="ReuseDetectionHandler"/> ends the session.
/// </summary>
internal sealed partial class RefreshTokenRotation(IOpenIddictTokenManager tokens, ILogger<RefreshTokenRotation> logger)
{
    /// <summary>
    /// Rounds of revocation before giving up on a grant whose tokens keep changing under us; each round
    /// that meets a concurrent change reads the grant's tokens again.
    /// </summary>
    private const int MaxRevocationRounds = 5;

    /// <summary>Redeems the presented refresh token; false when another request redeemed or revoked it first.</summary>
    public async Task<bool> TryRedeemAsync(ClaimsPrincipal presented, CancellationToken cancellationToken)
    {
        if (presented.GetTokenId() is not { } tokenId || await tokens.FindByIdAsync(tokenId, cancellationToken) is not { } entry)
        {
            // Nothing stored to redeem (OpenIddict has already refused tokens whose entry is missing).
            return true;
        }

        // OpenIddict lets a redeemed refresh token through only inside the leeway.
        var replay = await tokens.HasStatusAsync(entry, Statuses.Redeemed, cancellationToken);
        var firstRedeemed = await tokens.GetRedemptionDateAsync(entry, cancellationToken);
        if (!await tokens.TryRedeemAsync(entry, cancellationToken))
        {
            return false;
        }

        if (replay && firstRedeemed is { } since && presented.GetAuthorizationId() is { } grant)
        {
            LogReplay(logger, tokenId, grant);
            return await RevokeIssuedSinceAsync(grant, tokenId, since, cancellationToken);
        }
        return true;
    }

    /// <summary>
    /// Revokes what the earlier use of the replayed token produced, and its descendants: every other
    /// token of the grant that is still valid, or that was redeemed after the replayed token first was.
    /// (Creation dates cannot tell them apart: OpenIddict keeps them to the second.) Ancestors, redeemed
    /// before, stay redeemed, so presenting one is still caught as reuse. A token that changes while we
    /// revoke it (being redeemed right now) makes us read again, so a child written meanwhile is caught
    /// too; a child not yet written cannot be: its parent's row changed, so that write is refused.
    /// </summary>
    private async Task<bool> RevokeIssuedSinceAsync(string grant, string presentedId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        for (var round = 0; round < MaxRevocationRounds; round++)
        {
            var complete = true;
            foreach (var token in await tokens.FindByAuthorizationIdAsync(grant, cancellationToken).ToListAsync(cancellationToken))
            {
                var descendant = await tokens.HasStatusAsync(token, Statuses.Valid, cancellationToken)
                    || (await tokens.HasStatusAsync(token, Statuses.Redeemed, cancellationToken)
                        && await tokens.GetRedemptionDateAsync(token, cancellationToken) >= since);
                if (!descendant || await tokens.GetIdAsync(token, cancellationToken) == presentedId)
                {
                    continue;
                }
                complete &= await tokens.TryRevokeAsync(token, cancellationToken);
            }
            if (complete)
            {
                return true;
            }
        }
        // The chain could not be settled: refuse this replay rather than risk a second live chain.
        return false;
    }

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning,
        Message = "Refresh token {TokenId} of grant {AuthorizationId} was presented again inside the reuse leeway; the tokens its earlier use produced were revoked.")]
    private static partial void LogReplay(ILogger logger, string tokenId, string authorizationId);
}
