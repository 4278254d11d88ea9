namespace IdentityServer.Sessions;

/// <summary>
/// Links an OpenIddict authorization (one grant: its code, access, refresh and ID tokens) to the
/// session it was issued in. Kept in its own table so OpenIddict's entities stay unchanged.
/// </summary>
public sealed class SessionAuthorization
{
    public required string SessionId { get; init; }

    public required string AuthorizationId { get; init; }
}
