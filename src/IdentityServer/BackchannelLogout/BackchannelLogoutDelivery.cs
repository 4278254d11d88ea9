namespace IdentityServer.BackchannelLogout;

/// <summary>
/// One logout notification owed to one client for one ended session (an outbox row): written in the
/// same transaction that ends the session, delivered later by the back-channel logout job.
/// </summary>
public sealed class BackchannelLogoutDelivery
{
    public long Id { get; init; }

    public required string SessionId { get; init; }

    public required string ClientId { get; init; }

    public required string Uri { get; init; }

    public required string Subject { get; init; }

    /// <summary>The logout token's issuer: the issuer the session was started under.</summary>
    public required string Issuer { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset NextAttemptAt { get; set; }

    public int Attempts { get; set; }

    /// <summary>One of <see cref="BackchannelLogoutStatus"/>.</summary>
    public required string Status { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>The last failure: an HTTP status or an error type, never a response body.</summary>
    public string? LastError { get; set; }
}

public static class BackchannelLogoutStatus
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
}
