using System.ComponentModel.DataAnnotations;

namespace IdentityServer.RateLimiting;

/// <summary>
/// Bound from the <c>RateLimits</c> configuration section. Every limit lets <c>PermitLimit</c>
/// requests through at once and gives them back evenly over <c>Window</c>, so the sustained rate is
/// PermitLimit per Window. Counters live in each node's memory.
/// </summary>
public sealed class RateLimitOptions : IValidatableObject
{
    public const string Section = "RateLimits";

    /// <summary>False turns every limit off, for example behind a proxy that already limits.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Sign-in attempts (form posts) per client address. An office or campus behind one NAT address
    /// may sign in many people at 9:00; a password-spraying host tries many accounts from one address.
    /// </summary>
    public RateLimit SignInPerIp { get; set; } = new() { PermitLimit = 100, Window = TimeSpan.FromMinutes(1) };

    /// <summary>
    /// Sign-in attempts per login entered (user name or email, case-insensitive), whether or not
    /// such an account exists. A person retyping a password stays far below it.
    /// </summary>
    public RateLimit SignInPerAccount { get; set; } = new() { PermitLimit = 10, Window = TimeSpan.FromMinutes(1) };

    /// <summary>
    /// Forgot-password requests (form posts) per client address: one host asking for reset mails
    /// for many accounts. Over it the page says to wait (429).
    /// </summary>
    public RateLimit PasswordResetPerIp { get; set; } = new() { PermitLimit = 20, Window = TimeSpan.FromHours(1) };

    /// <summary>
    /// Reset mails per account (per name typed when it matches none). Over it the page answers as
    /// always but no mail is sent: a refusal would tell which names and addresses are one account,
    /// and the limit is there to keep anyone from flooding a mailbox.
    /// </summary>
    public RateLimit PasswordResetPerAccount { get; set; } = new() { PermitLimit = 3, Window = TimeSpan.FromHours(1) };

    /// <summary>Verification and change-of-address mails a signed-in user has sent from the e-mail page (to any address).</summary>
    public RateLimit AccountEmailPerUser { get; set; } = new() { PermitLimit = 5, Window = TimeSpan.FromHours(1) };

    /// <summary>Registration form posts per client address (when <c>Accounts:AllowRegistration</c> is on): one host creating accounts in bulk.</summary>
    public RateLimit RegistrationPerIp { get; set; } = new() { PermitLimit = 10, Window = TimeSpan.FromHours(1) };

    /// <summary>Tokens issued per client, counted only once the client and its grant are authenticated.</summary>
    public TokenRateLimit Token { get; set; } = new() { PermitLimit = 1000, Window = TimeSpan.FromSeconds(10) };

    /// <summary>
    /// Failed client authentications (401 invalid_client) per client address at the token,
    /// introspection, revocation and device endpoints. Once spent, every request from that address
    /// to those endpoints gets 429 until it refills: each wrong secret costs a full PBKDF2 check.
    /// </summary>
    public RateLimit ClientAuthenticationFailuresPerIp { get; set; } = new() { PermitLimit = 30, Window = TimeSpan.FromMinutes(1) };

    /// <summary>User-code lookups and decisions on the device verification page per signed-in user (RFC 8628 5.1: brute force).</summary>
    public RateLimit DeviceVerification { get; set; } = new() { PermitLimit = 10, Window = TimeSpan.FromMinutes(1) };

    /// <summary>Admin API and admin page requests per caller (the admin's account or the calling client).</summary>
    public RateLimit Admin { get; set; } = new() { PermitLimit = 600, Window = TimeSpan.FromMinutes(1) };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        (string Name, RateLimit Limit)[] limits =
        [
            (nameof(SignInPerIp), SignInPerIp), (nameof(SignInPerAccount), SignInPerAccount), (nameof(Token), Token),
            (nameof(ClientAuthenticationFailuresPerIp), ClientAuthenticationFailuresPerIp),
            (nameof(DeviceVerification), DeviceVerification), (nameof(Admin), Admin),
            (nameof(PasswordResetPerIp), PasswordResetPerIp), (nameof(PasswordResetPerAccount), PasswordResetPerAccount),
            (nameof(AccountEmailPerUser), AccountEmailPerUser), (nameof(RegistrationPerIp), RegistrationPerIp),
        ];
        foreach (var (name, limit) in limits)
        {
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(limit, new ValidationContext(limit), results, validateAllProperties: true);
            foreach (var result in results)
            {
                yield return new ValidationResult($"{Section}:{name}: {result.ErrorMessage}", [name]);
            }
        }
        if (Token.ExemptClients.Any(string.IsNullOrWhiteSpace))
        {
            yield return new ValidationResult($"{Section}:Token:ExemptClients: a client id is empty.", [nameof(Token)]);
        }
    }
}

/// <summary>One limit: <see cref="PermitLimit"/> requests per <see cref="Window"/>; a limit of 0 turns it off.</summary>
public class RateLimit
{
    [Range(0, 10_000_000)]
    public int PermitLimit { get; set; }

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Window { get; set; }
}

/// <summary>The token limit, with the clients it never applies to.</summary>
public sealed class TokenRateLimit : RateLimit
{
    /// <summary>Client ids never limited (trusted high-volume clients, load tests).</summary>
    public List<string> ExemptClients { get; set; } = [];
}
