namespace IdentityServer.Admin;

/// <summary>One page of a user search.</summary>
internal sealed record UserPage(IReadOnlyList<UserSummary> Items, int Page, int PageSize, int Total);

/// <summary>An account as listed by a search.</summary>
internal sealed record UserSummary(
    string Id, string? UserName, string? Email, bool LockedOut, DateTimeOffset? LockoutEnd, int ActiveSessions);

/// <summary>One account with its lockout state, roles and second factors (whether the authenticator app is on, recovery codes left, how many passkeys).</summary>
internal sealed record UserDetails(
    string Id, string? UserName, string? Email, bool EmailConfirmed, bool LockedOut, DateTimeOffset? LockoutEnd,
    int AccessFailedCount, IReadOnlyList<string> Roles, int ActiveSessions, bool AuthenticatorEnabled, int RecoveryCodesLeft, int Passkeys);

/// <summary>A session of a user; the end fields are set once it ended.</summary>
internal sealed record SessionView(
    string Id, bool Active, DateTimeOffset CreatedAt, DateTimeOffset LastSeenAt, DateTimeOffset ExpiresAt,
    string? IpAddress, string? UserAgent, string DeviceName, string AuthenticationMethods, IReadOnlyList<string> Clients,
    DateTimeOffset? EndedAt, string? EndReason, string? EndedBy);

/// <summary>How many sessions an operation ended.</summary>
internal sealed record EndedSessions(int Ended);

/// <summary>What deleting an account revoked besides its sessions.</summary>
internal sealed record DeletedUser(int EndedSessions, long RevokedAuthorizations, long RevokedTokens);

/// <summary>An entry of the audit trail.</summary>
internal sealed record SecurityEventView(
    long Id, DateTimeOffset Timestamp, string Type, string? UserId, string? UserName, string? SessionId, string? ClientId,
    string? IpAddress, string? UserAgent, string? Actor, string? Detail);

/// <summary>Active sessions now and sign-in outcomes per bucket over a window (UTC, from inclusive, to exclusive).</summary>
internal sealed record SessionStatistics(
    int ActiveSessions, DateTimeOffset From, DateTimeOffset To, string Interval,
    int SignInsSucceeded, int SignInsFailed, IReadOnlyList<SignInBucket> Buckets);

/// <summary>Sign-ins in one day or hour starting at <see cref="Start"/>.</summary>
internal sealed record SignInBucket(DateTimeOffset Start, int Succeeded, int Failed);

/// <summary>The outcome of ending one session.</summary>
internal enum EndSessionOutcome
{
    Ended,
    NotFound,
    AlreadyEnded,
}
