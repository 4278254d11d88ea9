using IdentityServer.Authorization;
using IdentityServer.Scheduling;
using Microsoft.Extensions.Options;

namespace IdentityServer.Pruning;

internal static class PruningSetup
{
    public static WebApplicationBuilder AddPruning(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<PruningOptions>()
            .Bind(builder.Configuration.GetSection(PruningOptions.Section))
            .ValidateDataAnnotations()
            .Validate<IOptions<TokenOptions>>(
                static (pruning, tokens) => pruning.MinimumAge >= tokens.Value.RefreshTokenLifetime,
                "Pruning:MinimumAge must be at least IdentityServer:RefreshTokenLifetime: a redeemed refresh token " +
                "pruned earlier could be replayed without being recognised as reuse.")
            .ValidateOnStart();

        var interval = builder.Configuration.GetSection(PruningOptions.Section).Get<PruningOptions>()?.Interval
            ?? new PruningOptions().Interval;

        builder.AddRecurringJob<PruningJob>(PruningJob.Key, "prune-every-interval", interval);
        return builder;
    }
}
