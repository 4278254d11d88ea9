using System.Collections.Concurrent;

namespace IdentityServer.Authorization;

/// <summary>
/// A small read-through cache for the client and scope lookups every protocol request makes.
/// Entries live for a minute and are dropped whenever a client or scope changes, on this node at once
/// and on the others when notified (<see cref="ClientAndScopeChanges"/>). Misses (null results) are never cached, and
/// callers cache only results for names that exist.
/// Code that modifies clients or scopes reads them inside <see cref="LookupCache.Bypass"/>: a cached
/// instance belongs to no DbContext, and updating it next to a tracked copy would conflict.
/// </summary>
internal sealed class LookupCache<TEntity>(TimeProvider clock)
{
    private const int MaximumEntries = 10_000;
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, (DateTimeOffset Expires, object Value)> entries = new(StringComparer.Ordinal);

    public async ValueTask<TValue> GetOrAddAsync<TValue>(string key, Func<ValueTask<TValue>> load, Func<TValue, bool> cacheable)
    {
        if (LookupCache.Bypassed)
        {
            return await load();
        }

        var now = clock.GetUtcNow();
        if (entries.TryGetValue(key, out var entry) && entry.Expires > now)
        {
            return (TValue)entry.Value;
        }

        var value = await load();
        if (value is not null && cacheable(value))
        {
            if (entries.Count >= MaximumEntries)
            {
                entries.Clear();
            }
            entries[key] = (now + Lifetime, value);
        }
        return value;
    }

    public void Clear() => entries.Clear();
}

/// <summary>Turns the lookup caches off for the current async flow (administration, seeding).</summary>
internal static class LookupCache
{
    private static readonly AsyncLocal<bool> bypassed = new();

    public static bool Bypassed => bypassed.Value;

    public static IDisposable Bypass()
    {
        var previous = bypassed.Value;
        bypassed.Value = true;
        return new Restore(previous);
    }

    private sealed class Restore(bool previous) : IDisposable
    {
        public void Dispose() => bypassed.Value = previous;
    }
}
