using System.Security.Cryptography;
using IdentityServer.Audit;
using IdentityServer.Authorization;
using IdentityServer.Data;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IdentityServer.Keys;

/// <summary>A signing key as the admin API lists it: never key material.</summary>
/// <param name="State"><c>next</c>, <c>current</c>, <c>retiring</c>, <c>retired</c> or <c>revoked</c>.</param>
/// <param name="UnpublishedAt">When it leaves (or left) the JWKS: revoked at once, else the tokens it signed have expired then.</param>
internal sealed record SigningKeyView(string Id, string Algorithm, string State, DateTimeOffset CreatedAt,
    DateTimeOffset ActivatesAt, DateTimeOffset? RetiresAt, DateTimeOffset? UnpublishedAt, DateTimeOffset? RevokedAt);

/// <summary>What a key operation came to.</summary>
internal sealed record KeyResult(bool Done, IReadOnlyList<SigningKeyView> Keys, string? Problem = null);

/// <summary>
/// Makes, rotates and revokes the automatic signing keys (<see cref="SigningKey"/>), always in one
/// transaction that holds the rotation lock (a PostgreSQL advisory lock; SQLite's single writer), so
/// that two nodes never both create a key. The schedule:
/// <list type="bullet">
/// <item>a key signs for <see cref="KeyOptions.RotationInterval"/>; its successor is created (and so
/// published) <see cref="KeyOptions.PublishAhead"/> before it takes over, or later if the server was
/// down then, but never with less notice than that;</item>
/// <item>the old key stays published for <see cref="SigningKeyRing.Retention"/> after the switch, then its
/// private key is erased;</item>
/// <item>a revoked key is dropped from the JWKS at once; if it was signing, the next key (or a new one)
/// takes over at once: clients that cached the JWKS fetch it again on the unknown <c>kid</c>.</item>
/// </list>
/// Every change is told to the other nodes (<see cref="ClientAndScopeChanges"/>) and is a security event.
/// </summary>
internal sealed partial class KeyRotation(
    ApplicationDbContext database,
    SigningKeyRing ring,
    TimeProvider clock,
    IOptions<KeyOptions> options,
    IOptions<TokenOptions> tokens,
    ClientAndScopeChanges changes,
    AuditLog audit,
    ILogger<KeyRotation> logger)
{
    /// <summary>The PostgreSQL advisory lock taken by every key change.</summary>
    private const long LockId = 0x1D9_5167_4B45;

    /// <summary>The series of keys this configuration signs with: RSA always (ID tokens), ECDSA P-256 too for ES256 access tokens.</summary>
    private IEnumerable<string> Algorithms => tokens.Value.AccessTokenAlgorithm == AccessTokenAlgorithm.ES256
        ? [SigningKeyRing.Rs256, SigningKeyRing.Es256]
        : [SigningKeyRing.Rs256];

    /// <summary>
    /// Brings the keys to where the schedule says (a first key, a next key when due, erased private keys of
    /// retired ones) and reloads this node's ring. Run at start (inside the start-up lock) and by the rotation job.
    /// </summary>
    public async Task EnsureAsync(CancellationToken cancellationToken)
    {
        await ChangeAsync(actor: null, (rows, now, created) =>
        {
            Schedule(rows, now, created);
            return null;
        }, cancellationToken);
    }

    /// <summary>Schedules the next key of each series now (it signs once it has been published for <see cref="KeyOptions.PublishAhead"/>).</summary>
    public Task<KeyResult> RotateNowAsync(string actor, CancellationToken cancellationToken) =>
        ChangeAsync(actor, (rows, now, created) =>
        {
            foreach (var algorithm in Algorithms)
            {
                if (rows.FirstOrDefault(r => r.Algorithm == algorithm && State(r, now) == SigningKeyState.Next) is { } next)
                {
                    return $"The next {algorithm} key {next.Id} is published already and signs from {next.ActivatesAt:u}.";
                }
            }
            foreach (var algorithm in Algorithms)
            {
                var signing = rows.Where(r => r.Algorithm == algorithm && State(r, now) == SigningKeyState.Current).MaxBy(static r => r.ActivatesAt);
                var activates = now + options.Value.PublishAhead;
                signing?.RetiresAt = activates;
                created.Add(Create(rows, algorithm, now, activates));
            }
            Schedule(rows, now, created);
            return null;
        }, cancellationToken);

    /// <summary>
    /// Revokes a key: out of the JWKS at once on every node, and tokens it signed no longer validate. A
    /// revoked signing key is replaced at once by the next key, or by a new one.
    /// </summary>
    public Task<KeyResult> RevokeAsync(string id, string actor, CancellationToken cancellationToken) =>
        ChangeAsync(actor, (rows, now, created) =>
        {
            if (rows.FirstOrDefault(r => r.Id == id) is not { } key)
            {
                return "";
            }
            if (State(key, now) is SigningKeyState.Revoked or SigningKeyState.Retired)
            {
                return $"The key {id} is {State(key, now).ToString().ToLowerInvariant()} already.";
            }
            var wasSigning = State(key, now) == SigningKeyState.Current;
            key.RevokedAt = now;
            if (wasSigning && rows.Where(r => r.Algorithm == key.Algorithm && State(r, now) == SigningKeyState.Next).MinBy(static r => r.ActivatesAt) is { } next)
            {
                next.ActivatesAt = now;
            }
            Schedule(rows, now, created);
            return null;
        }, cancellationToken);

    public async Task<IReadOnlyList<SigningKeyView>> ListAsync(CancellationToken cancellationToken) =>
        View(await database.SigningKeys.AsNoTracking().ToListAsync(cancellationToken), clock.GetUtcNow());

    /// <summary>
    /// The schedule applied to <paramref name="rows"/>: per series a signing key (a first one, or the next
    /// at once when the signing one is gone), the next one when due, and no private key kept for a key
    /// that can no longer sign or be published.
    /// </summary>
    private void Schedule(List<SigningKey> rows, DateTimeOffset now, List<SigningKey> created)
    {
        foreach (var algorithm in Algorithms)
        {
            var series = rows.Where(r => r.Algorithm == algorithm).ToList();
            var signing = series.Where(r => State(r, now) == SigningKeyState.Current).MaxBy(static r => r.ActivatesAt);
            var next = series.Where(r => State(r, now) == SigningKeyState.Next).MinBy(static r => r.ActivatesAt);
            if (signing is null)
            {
                // No key signs: the first start, or the signing key was revoked with no successor yet.
                if (next is not null)
                {
                    next.ActivatesAt = now;
                }
                else
                {
                    created.Add(Create(rows, algorithm, now, now));
                }
                continue;
            }
            var due = signing.ActivatesAt + options.Value.RotationInterval;
            if (next is null && now >= due - options.Value.PublishAhead)
            {
                var activates = due > now + options.Value.PublishAhead ? due : now + options.Value.PublishAhead;
                signing.RetiresAt = activates;
                created.Add(Create(rows, algorithm, now, activates));
            }
            else if (next is not null)
            {
                signing.RetiresAt = next.ActivatesAt;
            }
            else
            {
                // No successor (a next key was revoked): the signing key goes on signing.
                signing.RetiresAt = null;
            }
        }
        // A series this configuration no longer signs with (ES256 access tokens turned off): its key retires now.
        foreach (var orphan in rows.Where(r => !Algorithms.Contains(r.Algorithm) && State(r, now) is SigningKeyState.Current or SigningKeyState.Next))
        {
            orphan.RetiresAt = now;
            orphan.ActivatesAt = orphan.ActivatesAt > now ? now : orphan.ActivatesAt;
        }
        foreach (var done in rows.Where(r => State(r, now) is SigningKeyState.Retired or SigningKeyState.Revoked && r.ProtectedKey.Length > 0))
        {
            done.ProtectedKey = "";
        }
    }

    private SigningKey Create(List<SigningKey> rows, string algorithm, DateTimeOffset now, DateTimeOffset activates)
    {
        using AsymmetricAlgorithm material = algorithm == SigningKeyRing.Es256 ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : RSA.Create(2048);
        var key = new SigningKey
        {
            Id = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(16)),
            Algorithm = algorithm,
            ProtectedKey = ring.Protect(material),
            CreatedAt = now,
            ActivatesAt = activates,
        };
        rows.Add(key);
        database.SigningKeys.Add(key);
        return key;
    }

    /// <summary>
    /// Runs <paramref name="change"/> on every key row in one transaction under the rotation lock; saves,
    /// records each created key and the actor's change, tells every node. The change answers a problem
    /// (empty: no such key) or null.
    /// </summary>
    private async Task<KeyResult> ChangeAsync(string? actor, Func<List<SigningKey>, DateTimeOffset, List<SigningKey>, string?> change, CancellationToken cancellationToken)
    {
        var created = new List<SigningKey>();
        List<SigningKey> rows;
        string? problem;
        await using (var transaction = await database.Database.BeginTransactionAsync(cancellationToken))
        {
            if (database.Database.IsNpgsql())
            {
                await database.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({LockId})", cancellationToken);
            }
            rows = await database.SigningKeys.ToListAsync(cancellationToken);
            var before = rows.Select(static r => (r.Id, r.RevokedAt)).ToList();
            var now = clock.GetUtcNow();
            problem = change(rows, now, created);
            if (problem is not null)
            {
                return new KeyResult(false, View(rows, now), problem);
            }
            foreach (var key in created)
            {
                LogCreated(logger, key.Id, key.Algorithm, key.ActivatesAt);
                audit.Add(SecurityEventTypes.SigningKeyCreated, actor: actor, detail: $"{key.Id} ({key.Algorithm}) {key.ActivatesAt:u}");
            }
            foreach (var revoked in rows.Where(r => r.RevokedAt is not null && before.Contains((r.Id, null))))
            {
                LogRevoked(logger, revoked.Id);
                audit.Add(SecurityEventTypes.SigningKeyRevoked, actor: actor, detail: $"{revoked.Id} ({revoked.Algorithm})");
            }
            var changedRows = database.ChangeTracker.HasChanges();
            await database.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            if (changedRows)
            {
                await changes.PublishAsync(cancellationToken);
            }
        }
        await ring.ReloadAsync(cancellationToken);
        return new KeyResult(true, View(rows, clock.GetUtcNow()));
    }

    private SigningKeyState State(SigningKey key, DateTimeOffset now) => SigningKeyRing.StateOf(key, now, ring.Retention);

    private List<SigningKeyView> View(IEnumerable<SigningKey> rows, DateTimeOffset now) =>
        [.. rows.OrderByDescending(static r => r.ActivatesAt).ThenBy(static r => r.Algorithm, StringComparer.Ordinal)
            .Select(r => new SigningKeyView(r.Id, r.Algorithm, State(r, now).ToString().ToLowerInvariant(), r.CreatedAt, r.ActivatesAt, r.RetiresAt,
                r.RevokedAt ?? r.RetiresAt + ring.Retention, r.RevokedAt))];

    [LoggerMessage(EventId = 4121, Level = LogLevel.Information, Message = "Signing key {KeyId} ({Algorithm}) created; it signs from {ActivatesAt:u}.")]
    private static partial void LogCreated(ILogger logger, string keyId, string algorithm, DateTimeOffset activatesAt);

    [LoggerMessage(EventId = 4122, Level = LogLevel.Warning, Message = "Signing key {KeyId} revoked: removed from the JWKS; tokens it signed no longer validate.")]
    private static partial void LogRevoked(ILogger logger, string keyId);
}
