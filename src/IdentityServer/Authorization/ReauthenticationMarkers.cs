using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using IdentityServer.Sessions;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Authorization;

/// <summary>
/// prompt=login and max_age (OpenID Connect Core 3.1.2.1) ask for a sign-in made for this very
/// request. The authorization page sends the user to sign in with a marker in the return URL: a
/// random id and a hash of the request's parameters, data-protected and valid for
/// <see cref="Lifetime"/>. The sign-in records in the session's server-side cookie ticket which
/// marker it satisfied (<see cref="RecordAsync"/>). The authorization page accepts the
/// re-authentication only with that record and the same parameters (<see cref="Accept"/>), and uses
/// the record up when it issues the code (<see cref="UseAsync"/>). Both are conditional updates of
/// the stored ticket, and no cookie write carries a record (see <c>SessionTicketStore</c>): only one
/// request on any node can use a record, and a ticket written back later cannot restore it. A
/// return URL opened again, changed, or copied to another browser therefore leads to the sign-in
/// page, never to a second code.
/// </summary>
public sealed class ReauthenticationMarkers(IDataProtectionProvider dataProtection, SessionService sessions)
{
    /// <summary>The return URL's parameter that carries the marker.</summary>
    public const string Parameter = "reauth";

    /// <summary>Cookie-only claim: the id of the marker the last sign-in satisfied.</summary>
    public const string SatisfiedClaim = "idp_reauth";

    /// <summary>How long the user has to sign in after being sent to the sign-in page.</summary>
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(30);

    // Far longer than any marker we issue; a longer value is not worth unprotecting.
    private const int MaxMarkerLength = 1024;

    /// <summary>A new marker for an authorization request with these parameters (without a marker of its own).</summary>
    public string Create(IEnumerable<KeyValuePair<string, string?>> parameters)
    {
        var id = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(16));
        return Protector().Protect(id + "." + Hash(parameters), Lifetime);
    }

    /// <summary>
    /// For a sign-in, once its cookie is issued: when the return URL carries a genuine, unexpired
    /// marker, records in the session's stored cookie ticket that this sign-in satisfies it. False
    /// when there is none to record (or the session ended meanwhile).
    /// </summary>
    public async Task<bool> RecordAsync(string sessionId, string? returnUrl, CancellationToken cancellationToken)
    {
        var start = returnUrl?.IndexOf('?', StringComparison.Ordinal) ?? -1;
        if (start >= 0
            && QueryHelpers.ParseQuery(returnUrl![start..]).TryGetValue(Parameter, out var values) && values.Count == 1
            && Read(values[0]) is { } marker)
        {
            return await sessions.AddTicketClaimAsync(sessionId, SatisfiedClaim, marker.Id, cancellationToken);
        }
        return false;
    }

    /// <summary>
    /// The id of the marker when the cookie's sign-in was made for it and the request still has the
    /// parameters it was issued for; null otherwise (the user must sign in again).
    /// </summary>
    public string? Accept(string? marker, IEnumerable<KeyValuePair<string, string?>> parameters, ClaimsPrincipal? cookie)
    {
        if (Read(marker) is not { } read || cookie is null || !cookie.HasClaim(SatisfiedClaim, read.Id))
        {
            return null;
        }
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(read.Hash), Encoding.ASCII.GetBytes(Hash(parameters)))
            ? read.Id
            : null;
    }

    /// <summary>
    /// Uses the marker up in the session's stored cookie: true for exactly one request, whichever
    /// node it reaches. The claim also leaves this request's principal, so that nothing later in
    /// this request reads it.
    /// </summary>
    public async Task<bool> UseAsync(string sessionId, string id, ClaimsPrincipal cookie, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cookie);
        if (!await sessions.RemoveTicketClaimAsync(sessionId, SatisfiedClaim, id, cancellationToken))
        {
            return false;
        }
        foreach (var claim in cookie.Claims.Where(c => c.Type == SatisfiedClaim).ToList())
        {
            claim.Subject?.RemoveClaim(claim);
        }
        return true;
    }

    private (string Id, string Hash)? Read(string? marker)
    {
        if (string.IsNullOrEmpty(marker) || marker.Length > MaxMarkerLength)
        {
            return null;
        }
        try
        {
            return Protector().Unprotect(marker).Split('.') is [{ Length: > 0 } id, { Length: > 0 } hash] ? (id, hash) : null;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>
    /// The request's parameters, in a canonical order, hashed: names sorted, each name's values in
    /// their order, every name and value URL-encoded so that no two parameter lists give the same text.
    /// </summary>
    private static string Hash(IEnumerable<KeyValuePair<string, string?>> parameters)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in parameters.Where(static p => p.Key != Parameter).OrderBy(static p => p.Key, StringComparer.Ordinal))
        {
            text.Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value ?? "")).Append('&');
        }
        return WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private ITimeLimitedDataProtector Protector() =>
        dataProtection.CreateProtector("IdentityServer.Authorize.Reauthentication.v2").ToTimeLimitedDataProtector();
}
