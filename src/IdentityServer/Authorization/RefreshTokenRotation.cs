using System.Security.Claims;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Sessions;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Authorization;

/// <summary>
/// Refresh-token rotation: every use of a refresh token redeems it, and OpenIddict issues the next one.
/// Two rules keep one grant one chain of refresh tokens:
/// <list type="bullet">
/// <item>Of simultaneous uses of one refresh token exactly one wins: the redemption is written here
/// with optimistic concurrency before any token is issued (OpenIddict alone tolerates concurrent uses).</item>
/// <item>A replay inside the configured reuse leeway (<c>IdentityServer:RefreshTokenReuseLeeway</c>, 0
/// by default) continues the chain instead of forking it: the branch the earlier use started is
/// closed before the replay gets its new tokens. Its access tokens are revoked; its refresh tokens
/// are marked redeemed, so that whoever presents one later (the legitimate client, if the replay
/// was an attacker's) is caught by reuse detection, which revokes the grant and ends the session.</item>
/// </list>
/// A replay after the leeway never reaches this class: OpenIddict refuses it and revokes the grant,
/// and <see cref="ReuseDetectionHandler"/> ends the session.
/// </summary>
internal sealed partial class RefreshTokenRotation(
    IOpenIddictTokenManager tokens,
    ApplicationDbContext database,
    AuditLog audit,
    IOptions<TokenOptions> options,
    ILogger<RefreshTokenRotation> logger)
{
    /// <summary>
    /// Rounds of closing the branch before giving up on a grant whose tokens keep changing under us;
    /// each round that meets a concurrent change reads the changed tokens again.
    /// </summary>
    private const int MaxRounds = 5;

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
        if (!replay || firstRedeemed is not { } since || presented.GetAuthorizationId() is not { } grant)
        {
            return true;
        }

        LogReplay(logger, tokenId, grant);
        var subject = presented.GetClaim(Claims.Subject);
        await audit.RecordAsync(SecurityEventTypes.RefreshTokenReplayed, userId: subject, sessionId: presented.GetClaim(SessionService.SessionIdClaim),
            clientId: presented.GetPresenters().FirstOrDefault(), detail: "within_leeway", cancellationToken: cancellationToken);
        return await CloseBranchAsync(grant, tokenId, since, cancellationToken);
    }

    /// <summary>
    /// Closes what the earlier use of the replayed token produced, and its descendants: every other
    /// token of the grant that is still valid, or that was redeemed after the replayed token first
    /// was. (Creation dates cannot tell them apart: OpenIddict keeps them to the second.) Ancestors,
    /// redeemed before, are left as they are. Access tokens are revoked. Refresh tokens become
    /// redeemed, dated a full leeway before the replayed token's first use, so that presenting one is
    /// reuse at once rather than another replay inside the leeway. Every token of the branch is
    /// written, even one already redeemed: that changes its concurrency token, so a request redeeming
    /// it right now cannot write the tokens it is issuing. A write that loses to a concurrent change
    /// reloads that token and starts another round, so a child written meanwhile is closed too.
    /// </summary>
    private async Task<bool> CloseBranchAsync(string grant, string presentedId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var closedRedemption = (since - options.Value.RefreshTokenReuseLeeway - TimeSpan.FromSeconds(1)).UtcDateTime;
        for (var round = 0; round < MaxRounds; round++)
        {
            var settled = true;
            foreach (var token in await tokens.FindByAuthorizationIdAsync(grant, cancellationToken).ToListAsync(cancellationToken))
            {
                var inBranch = await tokens.HasStatusAsync(token, Statuses.Valid, cancellationToken)
                    || (await tokens.HasStatusAsync(token, Statuses.Redeemed, cancellationToken)
                        && await tokens.GetRedemptionDateAsync(token, cancellationToken) >= since);
                if (!inBranch || await tokens.GetIdAsync(token, cancellationToken) == presentedId)
                {
                    continue;
                }
                var entity = (OpenIddictEntityFrameworkCoreToken)token;
                if (!await TryCloseAsync(entity, closedRedemption, cancellationToken))
                {
                    // The store leaves the losing values in the tracked entity: read what won.
                    await database.Entry(entity).ReloadAsync(cancellationToken);
                    settled = false;
                }
            }
            if (settled)
            {
                return true;
            }
        }
        // The chain could not be settled: refuse this replay rather than risk a second live chain.
        return false;
    }

    private async Task<bool> TryCloseAsync(OpenIddictEntityFrameworkCoreToken token, DateTime closedRedemption, CancellationToken cancellationToken)
    {
        if (token.Type != TokenTypeIdentifiers.RefreshToken)
        {
            return await tokens.TryRevokeAsync(token, cancellationToken);
        }
        token.Status = Statuses.Redeemed;
        token.RedemptionDate = closedRedemption;
        try
        {
            await tokens.UpdateAsync(token, cancellationToken);
            return true;
        }
        catch (OpenIddictExceptions.ConcurrencyException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning,
        Message = "Refresh token {TokenId} of grant {AuthorizationId} was presented again inside the reuse leeway; the branch its earlier use started was closed.")]
    private static partial void LogReplay(ILogger logger, string tokenId, string authorizationId);
}
