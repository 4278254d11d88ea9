namespace IdentityServer.Audit;

/// <summary>One entry of the audit trail: who did what, from where, when. Kept for <c>Audit:Retention</c>.</summary>
public sealed class SecurityEvent
{
    public long Id { get; init; }

    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>One of <see cref="SecurityEventTypes"/>.</summary>
    public required string Type { get; init; }

    /// <summary>The account the event is about, if any (kept after the account is deleted).</summary>
    public string? UserId { get; init; }

    public string? UserName { get; init; }

    public string? SessionId { get; init; }

    public string? ClientId { get; init; }

    public string? IpAddress { get; init; }

    public string? UserAgent { get; init; }

    /// <summary>Who caused it when not the user: an admin's user id, a client id, or <c>system</c>.</summary>
    public string? Actor { get; init; }

    /// <summary>A short machine-readable detail, such as a session's end reason.</summary>
    public string? Detail { get; init; }
}
