using System.Collections.Concurrent;

namespace ClientSamples.WebApp.BackchannelLogout;

/// <summary>
/// The sessions the identity provider said have ended, kept in this process's memory. That is the sample's
/// limitation: with several instances behind a load balancer, the one that received the logout token would
/// be the only one to know; they would need a shared store (a distributed cache, or a server-side cookie
/// ticket store they can delete from). A restart forgets too, which the refresh check below covers.
/// </summary>
internal sealed class EndedSessions(TimeProvider time)
{
    // A cookie of an ended session stops working anyway at its next refresh (the identity provider refuses
    // the refresh token), at most an access-token lifetime later; a day covers that with room to spare.
    private static readonly TimeSpan Retention = TimeSpan.FromDays(1);

    private readonly ConcurrentDictionary<string, DateTimeOffset> ended = new(StringComparer.Ordinal);

    public void Add(string? sid, string? sub)
    {
        var now = time.GetUtcNow();
        foreach (var (key, at) in ended)
        {
            if (now - at > Retention)
            {
                ended.TryRemove(key, out _);
            }
        }
        ended[Key(sid, sub)] = now;
    }

    /// <summary>
    /// True for a cookie of an ended session. A logout token without <c>sid</c> ends every session of the
    /// user: those are refused when their cookie was issued before the notice, so a later sign-in works.
    /// </summary>
    public bool IsEnded(string? sid, string? sub, DateTimeOffset? cookieIssued) =>
        (sid is not null && ended.ContainsKey(Key(sid, null))) ||
        (sub is not null && ended.TryGetValue(Key(null, sub), out var at) && (cookieIssued is null || cookieIssued <= at));

    private static string Key(string? sid, string? sub) => sid is not null ? "sid:" + sid : "sub:" + sub;
}
