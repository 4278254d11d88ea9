using System.ComponentModel.DataAnnotations;

namespace IdentityServer.Sessions;

/// <summary>Bound from the <c>Sessions</c> configuration section.</summary>
public sealed class UserSessionOptions
{
    public const string Section = "Sessions";

    /// <summary>A session ends this long after it started, whatever its activity.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan AbsoluteLifetime { get; set; } = TimeSpan.FromDays(90);

    /// <summary>A session ends when neither its browser nor its refresh tokens were used for this long.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Active sessions one user may have; 0 = unlimited.</summary>
    [Range(0, 10_000)]
    public int MaxPerUser { get; set; } = 10;

    public SessionLimitBehavior WhenLimitReached { get; set; } = SessionLimitBehavior.EndOldest;

    /// <summary>
    /// How long a node may trust what it read about a session before reading it again. A session
    /// ended on this node is seen at once; one ended on another node within this time.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:30")]
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Activity is written at most this often per session (last seen, idle timeout).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ActivityUpdateInterval { get; set; } = TimeSpan.FromMinutes(1);
}

public enum SessionLimitBehavior
{
    /// <summary>A new sign-in ends the user's oldest session(s) to stay within the limit.</summary>
    EndOldest,

    /// <summary>A new sign-in is refused until the user ends a session.</summary>
    Deny,
}
