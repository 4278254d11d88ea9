namespace IdentityServer.Sessions;

/// <summary>
/// One sign-in of one user in one browser. The IdP cookie holds only <see cref="Id"/> (inside the
/// data-protected cookie); the authentication ticket lives here. Authorizations and tokens issued
/// while the user signs in through it are linked by <see cref="SessionAuthorization"/>, so ending
/// the session ends all of them.
/// </summary>
public sealed class UserSession
{
    /// <summary>Unguessable (128 random bits, base64url); also the <c>sid</c> claim of ID tokens.</summary>
    public required string Id { get; init; }

    public required string UserId { get; init; }

    /// <summary>The user name when the session started, kept for the record after an account is deleted.</summary>
    public required string UserName { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset LastSeenAt { get; set; }

    /// <summary>Absolute end: <see cref="CreatedAt"/> plus <c>Sessions:AbsoluteLifetime</c>.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }

    public string? IpAddress { get; init; }

    public string? UserAgent { get; init; }

    /// <summary>A readable device name derived from the user agent, such as "Chrome on Windows".</summary>
    public required string DeviceName { get; init; }

    /// <summary>How the user authenticated (<c>amr</c> values, space-separated), such as <c>pwd</c>.</summary>
    public required string AuthenticationMethods { get; init; }

    /// <summary>The issuer the session was started under: back-channel logout tokens are issued by it.</summary>
    public required string Issuer { get; init; }

    /// <summary>The serialized cookie authentication ticket (claims of the signed-in user).</summary>
    public byte[]? Ticket { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>Why the session ended; one of <see cref="SessionEndReasons"/>.</summary>
    public string? EndReason { get; set; }

    /// <summary>Who ended it: the user's id, an admin's id or client id, or <c>system</c>.</summary>
    public string? EndedBy { get; set; }

    public List<SessionClient> Clients { get; init; } = [];
}
