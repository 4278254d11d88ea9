using System.Security.Cryptography;
using System.Text;
using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using OtpNet;

namespace IdentityServer.TwoFactor;

/// <summary>
/// Authenticator (TOTP) codes. Identity's authenticator token provider decides whether a code is
/// right. It answers only yes or no, so the time step the code was made for, which replay
/// protection needs (see <see cref="SecondFactorCheck"/>), is then found with Otp.NET among the
/// steps Identity accepts (90 seconds either side of now).
/// </summary>
internal sealed class AuthenticatorCodes(UserManager<ApplicationUser> users)
{
    /// <summary>RFC 6238's time step, the one Identity's provider and every authenticator app use.</summary>
    public const int StepSeconds = 30;

    private const int Digits = 6;

    /// <summary>Identity's provider accepts codes of this many steps before and after now.</summary>
    private const int StepsAccepted = 2;

    /// <summary>
    /// The code as authenticator apps show it ("123 456" and "123-456" too); null unless it is
    /// exactly six digits. Identity's provider parses a number, and would also take "+123456" or
    /// "0123456": those are not codes.
    /// </summary>
    public static string? Normalize(string? input)
    {
        if (input is null || input.Length > 16)
        {
            return null;
        }
        var code = new string([.. input.Where(static c => c is not (' ' or '-'))]);
        return code.Length == Digits && code.All(char.IsAsciiDigit) ? code : null;
    }

    /// <summary>The time step <paramref name="code"/> was made for when it is right for the account's key; null when it is not.</summary>
    public async Task<long?> VerifyAsync(ApplicationUser user, string code)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(code);
        // Identity's provider reads the system clock, not the injected one: so must the step search.
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds() / StepSeconds;
        if (!await users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, code)
            || await users.GetAuthenticatorKeyAsync(user) is not { } key)
        {
            return null;
        }
        var totp = new Totp(Base32Encoding.ToBytes(key), StepSeconds, OtpHashMode.Sha1, Digits);
        // One step more after now: Identity may have read the clock after a step began. Newest first,
        // so that in the rare case of two steps with the same code the later one is used up.
        for (var step = now + StepsAccepted + 1; step >= now - StepsAccepted; step--)
        {
            var expected = totp.ComputeTotp(DateTimeOffset.FromUnixTimeSeconds(step * StepSeconds).UtcDateTime);
            if (CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(code)))
            {
                return step;
            }
        }
        return null;
    }

    /// <summary>The key as people type it into an app: lower case, in groups of four.</summary>
    public static string Grouped(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var text = new StringBuilder();
        for (var i = 0; i < key.Length; i += 4)
        {
            text.Append(i > 0 ? " " : "").Append(key.AsSpan(i, Math.Min(4, key.Length - i)));
        }
        return text.ToString().ToLowerInvariant();
    }
}
