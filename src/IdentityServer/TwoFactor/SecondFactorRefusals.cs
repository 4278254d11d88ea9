using IdentityServer.Localization;
using IdentityServer.Audit;
using IdentityServer.Observability;
using IdentityServer.RateLimiting;

namespace IdentityServer.TwoFactor;

/// <summary>
/// What every page that asks for a code does when it refuses one (the second sign-in step, the
/// step-up): the one message for every wrong code, the metrics and the audit record that keep what
/// was wrong, and the per-account rate limit that comes before the check.
/// </summary>
internal sealed class SecondFactorRefusals(AuditLog audit, RateLimiters limits, IdentityServerMetrics metrics)
{
    public const string WrongCode = "That code is not right. Enter the current code from your authenticator app, or a recovery code you have not used.";
    public const string LockedOut = "This account is locked because of repeated failed sign-ins. Try again later.";

    /// <summary>
    /// Records a refused code: a counted wrong code is second_factor_failed; the one that locked the
    /// account is locked_out with the same detail; a code refused because the account was locked is
    /// locked_out / second_factor. Returns whether the account is locked now.
    /// </summary>
    public async Task<bool> RecordAsync(SecondFactorResult result, string? sessionId = null, string? clientId = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        var user = result.User;
        var (type, detail) = result.Outcome switch
        {
            SecondFactorOutcome.FailedAndLocked => (SecurityEventTypes.LockedOut, result.Failure),
            SecondFactorOutcome.LockedOut => (SecurityEventTypes.LockedOut, "second_factor"),
            _ => (SecurityEventTypes.SecondFactorFailed, result.Failure),
        };
        var locked = type == SecurityEventTypes.LockedOut;
        metrics.SignIn(locked ? SignInResultTag.LockedOut : SignInResultTag.SecondFactorFailed);
        // Not cancelled with the request: the refusal happened.
        await audit.RecordAsync(type, user.Id, user.UserName, sessionId, clientId, detail: detail, cancellationToken: CancellationToken.None);
        return locked;
    }

    /// <summary>Null when the attempt may go on; otherwise the message, with a 429 and Retry-After already set.</summary>
    public string? RefuseWhenRateLimited(HttpContext context, string account)
    {
        ArgumentNullException.ThrowIfNull(context);
        using var lease = limits.AcquireSignIn(context, account);
        if (lease.IsAcquired)
        {
            return null;
        }
        var seconds = RateLimitResponses.Refuse(context.Response, lease);
        return Texts.Get("Too many sign-in attempts. Wait {0}, then try again.", RateLimitResponses.DescribeForReader(seconds));
    }
}
