using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using OpenIddict.EntityFrameworkCore.Models;

namespace Floor;

/// <summary>
/// Process-wide state of <see cref="CachingApplicationManager"/> (the manager itself is scoped).
/// Same idea as the product's lookup and secret caches, without their expiry and size limits, which
/// do not matter with two clients and a run of seconds.
/// </summary>
internal sealed class ClientCaches
{
    // Random per process: a fingerprint is useless outside it, and nothing reversible is kept.
    private readonly byte[] key = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<string, byte> goodSecrets = new(StringComparer.Ordinal);

    /// <summary>Applications by client_id; only clients that exist are added.</summary>
    public ConcurrentDictionary<string, OpenIddictEntityFrameworkCoreApplication> Clients { get; } = new(StringComparer.Ordinal);

    public int GoodSecretCount => goodSecrets.Count;

    public bool IsKnownGood(string secret, string comparand) => goodSecrets.ContainsKey(Fingerprint(secret, comparand));

    /// <summary>Remembers a secret that matched its stored hash; false if it was already known.</summary>
    public bool RememberGood(string secret, string comparand) => goodSecrets.TryAdd(Fingerprint(secret, comparand), 0);

    private string Fingerprint(string secret, string comparand) =>
        Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(comparand + "\n" + secret)));
}
