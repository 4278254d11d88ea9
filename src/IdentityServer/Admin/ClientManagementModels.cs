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

/// <summary>One of a client's secrets as the admin API lists it: never the secret or its hash.</summary>
internal sealed record ManagedSecret(string Id, DateTimeOffset? Created, DateTimeOffset? ExpiresAt, bool Active);

/// <summary>A secret just generated: shown in this answer only.</summary>
internal sealed record NewSecret(string Id, string Secret, DateTimeOffset Created, DateTimeOffset? ExpiresAt);

/// <summary>
/// A new secret for a client: when it expires (left out: never), and when the one in use now stops
/// working (left out: it stays until deleted), so that a rotation needs no second call.
/// </summary>
internal sealed record AddSecretRequest(DateTimeOffset? ExpiresAt = null, DateTimeOffset? PreviousExpiresAt = null);

/// <summary>What a secret operation came to.</summary>
internal sealed record SecretResult(ManagementOutcome Outcome, IReadOnlyList<ManagedSecret>? Secrets = null, NewSecret? Added = null,
    IDictionary<string, string[]>? Errors = null, string? Problem = null);
