namespace ClientSamples.Api;

/// <summary>What <c>GET /api/hello</c> returns: who the token was issued to, how the API checked it, the key it is bound to (DPoP) and who acts for the subject (token exchange), if any.</summary>
internal sealed record HelloResponse(string? Subject, string? ClientId, IReadOnlyList<string> Scopes, string ValidatedBy, string? BoundTo, string? Actor);
