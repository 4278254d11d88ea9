using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using Quartz;

namespace IdentityServer.Pruning;

/// <summary>
/// Removes dead protocol state: tokens that are expired, revoked, redeemed or otherwise invalid,
/// and authorizations that are no longer valid or have no valid token left, once they are older
/// than <see cref="PruningOptions.MinimumAge"/>. One run at a time.
/// </summary>
[DisallowConcurrentExecution]
internal sealed partial class PruningJob(
    IOpenIddictTokenManager tokens,
    IOpenIddictAuthorizationManager authorizations,
    IOptions<PruningOptions> options,
    TimeProvider clock,
    ILogger<PruningJob> logger) : IJob
{
    public static readonly JobKey Key = new("prune-tokens-and-authorizations");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var result = await RunAsync(cancellationToken);
        context.Result = result;
    }

    public async Task<PruningResult> RunAsync(CancellationToken cancellationToken)
    {
        var threshold = clock.GetUtcNow() - options.Value.MinimumAge;
        var prunedTokens = await tokens.PruneAsync(threshold, cancellationToken);
        var prunedAuthorizations = await authorizations.PruneAsync(threshold, cancellationToken);
        LogPruned(logger, prunedTokens, prunedAuthorizations, threshold);
        return new PruningResult(prunedTokens, prunedAuthorizations);
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information,
        Message = "Pruning removed {Tokens} tokens and {Authorizations} authorizations created before {Threshold:O}.")]
    private static partial void LogPruned(ILogger logger, long tokens, long authorizations, DateTimeOffset threshold);
}

public sealed record PruningResult(long Tokens, long Authorizations);
