namespace IdentityServer.Sessions;

/// <summary>A client application that received tokens in a session (it gets a back-channel logout when the session ends).</summary>
public sealed class SessionClient
{
    public required string SessionId { get; init; }

    public required string ClientId { get; init; }

    public required DateTimeOffset FirstUsedAt { get; init; }
}
