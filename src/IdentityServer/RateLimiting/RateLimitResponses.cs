using System.Globalization;
using System.Threading.RateLimiting;
using IdentityServer.Authorization;

namespace IdentityServer.RateLimiting;

/// <summary>How a refused request is answered: 429 with Retry-After, in the shape its caller reads.</summary>
internal static class RateLimitResponses
{
    /// <summary>
    /// The registered OAuth error closest to "slow down": RFC 6749 defines it for the authorization
    /// endpoint; here it travels with 429 and Retry-After, which carry the rest of the meaning.
    /// </summary>
    public const string OAuthError = "temporarily_unavailable";

    /// <summary>When to try again, from the refused lease, in whole seconds (at least one).</summary>
    public static int RetryAfterSeconds(RateLimitLease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        // Token buckets always say when the next permit comes; a minute is a safe guess otherwise.
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
            ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
            : 60;
    }

    /// <summary>Sets the 429 status and Retry-After from the refused lease; returns the seconds.</summary>
    public static int Refuse(HttpResponse response, RateLimitLease lease)
    {
        ArgumentNullException.ThrowIfNull(response);
        var seconds = RetryAfterSeconds(lease);
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return seconds;
    }

    /// <summary>"5 seconds", "2 minutes", in English: for OAuth error descriptions.</summary>
    public static string Describe(int seconds) => seconds switch
    {
        1 => "a second",
        < 90 => $"{seconds} seconds",
        _ => $"{(seconds + 59) / 60} minutes",
    };

    /// <summary>The same wait for a page, in the reader's language (OAuth error descriptions stay in ASCII English, RFC 6749 5.2).</summary>
    public static string DescribeForReader(int seconds) => seconds switch
    {
        1 => Localization.Texts.Get("a second"),
        < 90 => Localization.Texts.Get("{0} seconds", seconds),
        _ => Localization.Texts.Get("{0} minutes", (seconds + 59) / 60),
    };

    /// <summary>429 at an OAuth endpoint: RFC 6749 5.2's JSON error body, not cached.</summary>
    public static Task WriteOAuthErrorAsync(HttpContext context, RateLimitLease lease) =>
        WriteOAuthErrorAsync(context, RetryAfterSeconds(lease));

    /// <summary>The same answer as an endpoint result (the lease is read now, so it may be disposed).</summary>
    public static IResult OAuthErrorResult(RateLimitLease lease) => new OAuthErrorResponse(RetryAfterSeconds(lease));

    private static Task WriteOAuthErrorAsync(HttpContext context, int seconds)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return ProtocolErrors.WriteJsonAsync(context, StatusCodes.Status429TooManyRequests, OAuthError,
            $"Too many requests. Try again in {Describe(seconds)}.");
    }

    private sealed class OAuthErrorResponse(int seconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => WriteOAuthErrorAsync(httpContext, seconds);
    }
}
