using System.Security.Cryptography;
using System.Text;
using IdentityServer.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace IdentityServer.StepUp;

/// <summary>
/// The link from an authorization request to the step-up page carries a ticket: the session it is
/// for, the level asked for and a hash of the return URL (the authorization request), data-protected
/// and valid for <c>StepUp:LinkLifetime</c>. The step-up page acts only on that session, from its
/// own cookie, and only for that request: the link opened in another browser, with another return
/// URL or after it expired does nothing. The account always comes from the cookie, never from the link or a form.
/// </summary>
public sealed class StepUpLinks(IDataProtectionProvider dataProtection, IOptions<StepUpOptions> options)
{
    // Far longer than any ticket we issue; a longer value is not worth unprotecting.
    private const int MaxTicketLength = 1024;

    /// <summary>
    /// Where a signed-in user whose session is below <paramref name="level"/> goes, to come back to
    /// <paramref name="returnUrl"/>: for mfa, the step-up page (the code only) when the account has an
    /// authenticator, else the authenticator set-up, whose confirmed code counts as the step-up. Null
    /// for phr: only a passkey sign-in reaches it (the sign-in page).
    /// </summary>
    public string? PathFor(ApplicationUser user, string sessionId, string level, string returnUrl)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (level == AuthenticationLevels.PhishingResistant)
        {
            return null;
        }
        return user.TwoFactorEnabled
            ? QueryHelpers.AddQueryString("/Account/StepUp", new Dictionary<string, string?> { ["ReturnUrl"] = returnUrl, ["Ticket"] = Create(sessionId, level, returnUrl) })
            : QueryHelpers.AddQueryString("/Account/Authenticator", "ReturnUrl", returnUrl);
    }

    public string Create(string sessionId, string level, string returnUrl) =>
        Protector().Protect(string.Join('.', sessionId, level, Hash(returnUrl)), options.Value.LinkLifetime);

    /// <summary>The level the ticket asks for, when it is genuine, unexpired, for this session and this return URL; otherwise null.</summary>
    public string? Read(string? ticket, string? sessionId, string? returnUrl)
    {
        if (string.IsNullOrEmpty(ticket) || ticket.Length > MaxTicketLength || sessionId is null || returnUrl is null)
        {
            return null;
        }
        try
        {
            return Protector().Unprotect(ticket).Split('.') is [var session, var level, var hash]
                && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(session), Encoding.ASCII.GetBytes(sessionId))
                && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(hash), Encoding.ASCII.GetBytes(Hash(returnUrl)))
                && AuthenticationLevels.Supported.Contains(level, StringComparer.Ordinal)
                ? level
                : null;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    private static string Hash(string returnUrl) => WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.UTF8.GetBytes(returnUrl)));

    private ITimeLimitedDataProtector Protector() =>
        dataProtection.CreateProtector("IdentityServer.StepUp.Link.v1").ToTimeLimitedDataProtector();
}
