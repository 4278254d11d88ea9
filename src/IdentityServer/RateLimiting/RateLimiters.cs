using System.Threading.RateLimiting;
using IdentityServer.Account;
using IdentityServer.Observability;
using Microsoft.Extensions.Options;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.RateLimiting;

/// <summary>
/// The limits checked in code, because what they count is only known inside the request: the login
/// typed into the sign-in form, the client OpenIddict has authenticated, a failed client
/// authentication, a user code typed by a signed-in user. Each is a partitioned token bucket of
/// System.Threading.RateLimiting, which also drops partitions that have been idle (full) for a while.
/// </summary>
public sealed class RateLimiters : IDisposable
{
    private readonly PartitionedRateLimiter<string> signInPerIp;
    private readonly PartitionedRateLimiter<string> signInPerAccount;
    private readonly PartitionedRateLimiter<string> token;
    private readonly PartitionedRateLimiter<string> clientAuthenticationFailures;
    private readonly PartitionedRateLimiter<string> deviceVerification;
    private readonly PartitionedRateLimiter<string> passwordResetPerIp;
    private readonly PartitionedRateLimiter<string> passwordResetPerAccount;
    private readonly PartitionedRateLimiter<string> accountEmail;
    private readonly PartitionedRateLimiter<string> registrationPerIp;
    private readonly HashSet<string> exemptClients;
    private readonly IdentityServerMetrics metrics;

    // Hands out a successful lease for callers that are never limited.
    private static readonly RateLimiter Unlimited = RateLimitPartition.GetNoLimiter(0).Factory(0);

    public RateLimiters(IOptions<RateLimitOptions> options, IdentityServerMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.metrics = metrics;
        var limits = options.Value;
        signInPerIp = Create(limits.Enabled ? limits.SignInPerIp : null);
        signInPerAccount = Create(limits.Enabled ? limits.SignInPerAccount : null);
        token = Create(limits.Enabled ? limits.Token : null);
        clientAuthenticationFailures = Create(limits.Enabled ? limits.ClientAuthenticationFailuresPerIp : null);
        deviceVerification = Create(limits.Enabled ? limits.DeviceVerification : null);
        passwordResetPerIp = Create(limits.Enabled ? limits.PasswordResetPerIp : null);
        passwordResetPerAccount = Create(limits.Enabled ? limits.PasswordResetPerAccount : null);
        accountEmail = Create(limits.Enabled ? limits.AccountEmailPerUser : null);
        registrationPerIp = Create(limits.Enabled ? limits.RegistrationPerIp : null);
        exemptClients = new HashSet<string>(limits.Token.ExemptClients, StringComparer.Ordinal);
    }

    /// <summary>
    /// One sign-in attempt: it counts against the caller's address, then against the login entered.
    /// The login is counted whether or not an account has it, so the limit tells nothing about which exist.
    /// </summary>
    public RateLimitLease AcquireSignIn(HttpContext context, string login)
    {
        var byAddress = Counted(signInPerIp.AttemptAcquire(ClientAddress.PartitionKey(context)), "sign_in_per_ip");
        if (!byAddress.IsAcquired)
        {
            return byAddress;
        }
        byAddress.Dispose();
        return Counted(signInPerAccount.AttemptAcquire(LoginKey.Normalize(login)), "sign_in_per_account");
    }

    /// <summary>
    /// One passkey sign-in attempt. No login is typed, so it counts against the caller's address
    /// only, in the same bucket as password attempts.
    /// </summary>
    public RateLimitLease AcquirePasskeySignIn(HttpContext context) =>
        Counted(signInPerIp.AttemptAcquire(ClientAddress.PartitionKey(context)), "sign_in_per_ip");

    /// <summary>One token request by a client that OpenIddict has already authenticated.</summary>
    public RateLimitLease AcquireToken(string clientId) =>
        exemptClients.Contains(clientId) ? Unlimited.AttemptAcquire() : Counted(token.AttemptAcquire(clientId), "token");

    /// <summary>One user-code lookup or decision on the device verification page.</summary>
    public RateLimitLease AcquireDeviceVerification(HttpContext context) =>
        Counted(deviceVerification.AttemptAcquire(context.User.FindFirst(Claims.Subject)?.Value ?? "ip:" + ClientAddress.PartitionKey(context)), "device_verification");

    /// <summary>One forgot-password request from the caller's address.</summary>
    public RateLimitLease AcquirePasswordResetByAddress(HttpContext context) =>
        Counted(passwordResetPerIp.AttemptAcquire(ClientAddress.PartitionKey(context)), "password_reset_per_ip");

    /// <summary>One reset mail for an account: its id, or the normalised name typed when it matches none.</summary>
    public RateLimitLease AcquirePasswordResetForAccount(string? userId, string login) =>
        Counted(passwordResetPerAccount.AttemptAcquire(userId is not null ? "id:" + userId : "login:" + LoginKey.Normalize(login)), "password_reset_per_account");

    /// <summary>One mail sent from the e-mail page by a signed-in user.</summary>
    public RateLimitLease AcquireAccountEmail(string userId) =>
        Counted(accountEmail.AttemptAcquire(userId), "account_email_per_user");

    /// <summary>One registration form post from the caller's address.</summary>
    public RateLimitLease AcquireRegistration(HttpContext context) =>
        Counted(registrationPerIp.AttemptAcquire(ClientAddress.PartitionKey(context)), "registration_per_ip");

    /// <summary>Whether the caller's address may still try to authenticate a client; takes nothing while it may.</summary>
    public RateLimitLease CheckClientAuthentication(HttpContext context)
    {
        // Asking for zero permits would not do: the bucket refills in fractions, and any fraction
        // counts as "available" for zero. The statistics round down to whole permits.
        var key = ClientAddress.PartitionKey(context);
        if (clientAuthenticationFailures.GetStatistics(key) is { CurrentAvailablePermits: >= 1 })
        {
            return Unlimited.AttemptAcquire();
        }
        // Refused with the time of the next permit (or, if one arrived just now, granted at its cost).
        return Counted(clientAuthenticationFailures.AttemptAcquire(key), "client_authentication_failures_per_ip");
    }

    /// <summary>Counts a refusal on <c>idp.rate_limit.rejections</c>, tagged with the limit that refused.</summary>
    private RateLimitLease Counted(RateLimitLease lease, string limit)
    {
        if (!lease.IsAcquired)
        {
            metrics.RateLimited(limit);
        }
        return lease;
    }

    /// <summary>Counts a failed client authentication against the caller's address.</summary>
    public void RecordFailedClientAuthentication(HttpContext context) =>
        clientAuthenticationFailures.AttemptAcquire(ClientAddress.PartitionKey(context)).Dispose();

    /// <summary>
    /// The bucket holds <see cref="RateLimit.PermitLimit"/> permits and refills them evenly over the
    /// window, in steps at least a second apart, so that the Retry-After of a refused request (the
    /// time to the next refill, which the lease reports) is a truthful number of whole seconds.
    /// Sliding windows would count the same way but report no Retry-After.
    /// </summary>
    public static TokenBucketRateLimiterOptions Bucket(RateLimit limit)
    {
        ArgumentNullException.ThrowIfNull(limit);
        var perStep = (int)Math.Ceiling(limit.PermitLimit / limit.Window.TotalSeconds);
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit.PermitLimit,
            TokensPerPeriod = perStep,
            ReplenishmentPeriod = limit.Window * perStep / limit.PermitLimit,
            QueueLimit = 0,
            AutoReplenishment = true,
        };
    }

    /// <summary>One partition per key; a limit switched off (or all limits) never refuses.</summary>
    private static PartitionedRateLimiter<string> Create(RateLimit? limit)
    {
        if (limit is null || limit.PermitLimit == 0)
        {
            return PartitionedRateLimiter.Create<string, string>(static _ => RateLimitPartition.GetNoLimiter(string.Empty));
        }
        var bucket = Bucket(limit);
        return PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => bucket));
    }

    public void Dispose()
    {
        signInPerIp.Dispose();
        signInPerAccount.Dispose();
        token.Dispose();
        clientAuthenticationFailures.Dispose();
        deviceVerification.Dispose();
        passwordResetPerIp.Dispose();
        passwordResetPerAccount.Dispose();
        accountEmail.Dispose();
        registrationPerIp.Dispose();
    }
}
