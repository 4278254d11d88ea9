using System.Diagnostics.Metrics;

namespace IdentityServer.Observability;

/// <summary>
/// The server's own instruments, on the <c>IdentityServer</c> meter. Recording costs a few
/// nanoseconds when nothing listens (no exporter configured) and tags are always from small fixed
/// sets, never client ids, user names or anything a caller can make up.
/// Request latency is ASP.NET Core's <c>http.server.request.duration</c>: not repeated here.
/// </summary>
public sealed class IdentityServerMetrics
{
    public const string MeterName = "IdentityServer";

    private readonly Counter<long> tokensIssued;
    private readonly Counter<long> reuseDetected;
    private readonly Counter<long> signIns;
    private readonly Counter<long> pruned;
    private readonly Counter<long> rateLimited;

    public IdentityServerMetrics(IMeterFactory meterFactory, ActiveSessionsGauge activeSessions)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(activeSessions);
        var meter = meterFactory.Create(MeterName);
        tokensIssued = meter.CreateCounter<long>("idp.tokens.issued", "{token}",
            "Tokens issued by the token endpoint, by grant type and token type (access_token, refresh_token, id_token).");
        reuseDetected = meter.CreateCounter<long>("idp.refresh_token.reuse_detected", "{event}",
            "A redeemed refresh token or authorization code presented again: its grant and session were revoked.");
        signIns = meter.CreateCounter<long>("idp.sign_ins", "{sign_in}",
            "Sign-in attempts by result (succeeded, failed, locked_out; second_factor_required when a right password leads to the second step, second_factor_failed for a wrong code there).");
        pruned = meter.CreateCounter<long>("idp.pruning.removed", "{row}",
            "Rows removed by pruning, by kind (tokens, authorizations, sessions, security_events, backchannel_deliveries).");
        rateLimited = meter.CreateCounter<long>("idp.rate_limit.rejections", "{request}",
            "Requests refused with 429 by a limit checked in code, by limit (sign_in_per_ip, sign_in_per_account, token, client_authentication_failures_per_ip, device_verification); the admin limit is on ASP.NET Core's aspnetcore.rate_limiting meter.");
        meter.CreateObservableGauge("idp.sessions.active", activeSessions.Observe, "{session}",
            "Active sign-in sessions in the database (every node reports the same count; refreshed at most every few seconds).");
    }

    /// <summary>Grant type values, kept to the ones the server supports so the tag cannot grow.</summary>
    internal static string GrantTag(string? grantType) => grantType switch
    {
        "authorization_code" or "refresh_token" or "client_credentials" or "urn:ietf:params:oauth:grant-type:device_code" => grantType,
        _ => "other",
    };

    public void TokenIssued(string? grantType, string tokenType) =>
        tokensIssued.Add(1, new KeyValuePair<string, object?>("grant_type", GrantTag(grantType)), new KeyValuePair<string, object?>("token_type", tokenType));

    public void ReuseDetected(string? grantType) =>
        reuseDetected.Add(1, new KeyValuePair<string, object?>("grant_type", GrantTag(grantType)));

    public void SignIn(SignInResultTag result) =>
        signIns.Add(1, new KeyValuePair<string, object?>("result", result switch
        {
            SignInResultTag.Succeeded => "succeeded",
            SignInResultTag.LockedOut => "locked_out",
            SignInResultTag.SecondFactorRequired => "second_factor_required",
            SignInResultTag.SecondFactorFailed => "second_factor_failed",
            _ => "failed",
        }));

    public void RateLimited(string limit) =>
        rateLimited.Add(1, new KeyValuePair<string, object?>("limit", limit));

    public void Pruned(string kind, long count)
    {
        if (count > 0)
        {
            pruned.Add(count, new KeyValuePair<string, object?>("kind", kind));
        }
    }
}

/// <summary>The <c>result</c> tag of <c>idp.sign_ins</c>.</summary>
public enum SignInResultTag
{
    Succeeded,
    Failed,
    LockedOut,

    /// <summary>The password was right and the second step (an authenticator or recovery code) is asked for.</summary>
    SecondFactorRequired,

    /// <summary>A wrong code at the second step (one that locked the account counts as <see cref="LockedOut"/>).</summary>
    SecondFactorFailed,
}
