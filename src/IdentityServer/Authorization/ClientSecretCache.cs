using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;

namespace IdentityServer.Authorization;

/// <summary>
/// Remembers, for a few minutes, that a client secret matched its stored PBKDF2 hash, so a busy
/// client does not pay the key-derivation cost on every token or introspection request.
/// Only successes are remembered, under an HMAC keyed with a random per-process key: a wrong
/// secret always pays the full PBKDF2 cost (guessing is not made cheaper), nothing reversible is
/// kept, and a rotated secret changes the stored hash so the old entry no longer matches.
/// </summary>
internal sealed class ClientSecretCache : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);
    private readonly byte[] key = RandomNumberGenerator.GetBytes(32);
    private readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = 10_000 });

    public bool IsKnownGood(string secret, string comparand) => cache.TryGetValue(Fingerprint(secret, comparand), out _);

    public void Remember(string secret, string comparand) =>
        cache.Set(Fingerprint(secret, comparand), true, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = Lifetime });

    private string Fingerprint(string secret, string comparand) =>
        Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(comparand + "\n" + secret)));

    public void Dispose() => cache.Dispose();
}
