using System.Buffers.Binary;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Authorization;

/// <summary>
/// Server nonces for DPoP proofs (RFC 9449 8): the time of issue, protected with the data-protection key
/// ring every node shares, so a nonce one node gave is accepted by the others and nothing is stored. A new
/// nonce is made every minute; a nonce is accepted for <see cref="DPoPOptions.NonceLifetime"/>.
/// </summary>
internal sealed class DPoPNonces(IDataProtectionProvider protection, IOptions<DPoPOptions> options, TimeProvider clock)
{
    private static readonly TimeSpan Renewal = TimeSpan.FromMinutes(1);

    private readonly IDataProtector protector = protection.CreateProtector("IdentityServer.DPoP.Nonce.v1");
    private Nonce? current;

    /// <summary>The nonce to give clients now.</summary>
    public string Current
    {
        get
        {
            var now = clock.GetUtcNow();
            if (Volatile.Read(ref current) is { } nonce && now - nonce.Made < Renewal && nonce.Made <= now)
            {
                return nonce.Value;
            }
            var time = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(time, now.ToUnixTimeSeconds());
            var made = new Nonce(Base64UrlEncoder.Encode(protector.Protect(time)), DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds()));
            Volatile.Write(ref current, made);
            return made.Value;
        }
    }

    /// <summary>Whether a nonce is one this server (or another node) gave within the nonce lifetime.</summary>
    public bool IsCurrent(string? nonce)
    {
        if (string.IsNullOrEmpty(nonce) || nonce.Length > 512)
        {
            return false;
        }
        try
        {
            var time = protector.Unprotect(Base64UrlEncoder.DecodeBytes(nonce));
            if (time.Length != 8)
            {
                return false;
            }
            var made = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(BinaryPrimitives.ReadInt64BigEndian(time), 0, 253_402_300_799));
            var now = clock.GetUtcNow();
            return made <= now + Renewal && now - made <= options.Value.NonceLifetime;
        }
        catch (Exception exception) when (exception is CryptographicException or FormatException or ArgumentException)
        {
            return false;
        }
    }

    private sealed record Nonce(string Value, DateTimeOffset Made);
}
