namespace IdentityServer.Passkeys;

/// <summary>
/// A passkey as the Security page lists it. <paramref name="Id"/> is its credential id in base64url,
/// as the page's forms send it back. Identity records when a passkey was added, not when it was last used.
/// </summary>
internal sealed record PasskeyListItem(string Id, string Name, DateTimeOffset CreatedAt);
