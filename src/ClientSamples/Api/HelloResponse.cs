namespace ClientSamples.Api;

/// <summary>What <c>GET /api/hello</c> returns: who the token was issued to and how the API checked it.</summary>
internal sealed record HelloResponse(string? Subject, string? ClientId, IReadOnlyList<string> Scopes, string ValidatedBy);
