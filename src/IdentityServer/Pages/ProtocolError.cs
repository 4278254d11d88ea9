namespace IdentityServer.Pages;

/// <summary>What the error page shows: an OAuth error code and its description, never exception details.</summary>
public sealed record ProtocolError(string? Error, string? Description);
