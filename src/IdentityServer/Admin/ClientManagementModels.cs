using IdentityServer.Seeding;

namespace IdentityServer.Admin;

/// <summary>
/// A client as the admin API shows it: the seed file's fields (<see cref="SeedClient"/>), and the
/// secret only in the answer to the creation that generated it (never again: only a hash is kept).
/// </summary>
internal sealed record ManagedClient(SeedClient Client, string? ClientSecret = null);

/// <summary>What a change to a client came to: the client as it is now, or what was wrong.</summary>
internal sealed record ClientResult(ManagementOutcome Outcome, ManagedClient? Client = null,
    IDictionary<string, string[]>? Errors = null, string? Problem = null);
