using System.Collections.Immutable;
using System.Security.Cryptography;
using IdentityServer.Authorization;
using IdentityServer.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using OpenIddict.Validation;

namespace IdentityServer.Keys;

/// <summary>
/// This node's copy of the automatic signing keys (<see cref="SigningKey"/>), read from the database at
/// start, at every change notice and every minute. It gives OpenIddict the keys to publish and validate
/// with (as its signing credentials, through <see cref="IConfigureOptions{TOptions}"/>; the options, and
/// the admin API's validation options that import them, are rebuilt when the published set changes), and <see cref="TokenSigningCredentials"/> the key that signs:
/// the one whose <see cref="SigningKey.ActivatesAt"/> has come, by this node's clock. Every node reads the
/// same rows, so all switch at the same instant, and the next key is published long before that.
/// </summary>
internal sealed partial class SigningKeyRing(
    IServiceScopeFactory scopes,
    IDataProtectionProvider dataProtection,
    TimeProvider clock,
    IOptions<TokenOptions> tokens,
    IOptions<KeyOptions> keys,
    ILogger<SigningKeyRing> logger)
    : IConfigureOptions<OpenIddictServerOptions>, IOptionsChangeTokenSource<OpenIddictServerOptions>,
    IOptionsChangeTokenSource<OpenIddictValidationOptions>, IDisposable
{
    public const string Rs256 = SecurityAlgorithms.RsaSha256;
    public const string Es256 = SecurityAlgorithms.EcdsaSha256;

    private const string Purpose = "IdentityServer.Keys.SigningKey.v1";

    private readonly SemaphoreSlim reloading = new(1, 1);
    private volatile Snapshot current = new([], "");
    private CancellationTokenSource changed = new();
    private CancellationTokenSource validationChanged = new();

    private sealed record Loaded(SigningKey Row, SigningCredentials Credentials);

    private sealed record Snapshot(ImmutableArray<Loaded> Keys, string Published);

    /// <summary>
    /// How long a key stays published after it stopped signing: <see cref="KeyOptions.RetainFor"/> (so that an
    /// ID token still verifies as a sign-out hint), and never less than the longest token lifetime it signs
    /// and five minutes of clock skew.
    /// </summary>
    public TimeSpan Retention
    {
        get
        {
            var tokensLive = TimeSpan.FromMinutes(5)
                + (tokens.Value.AccessTokenLifetime > tokens.Value.IdentityTokenLifetime ? tokens.Value.AccessTokenLifetime : tokens.Value.IdentityTokenLifetime);
            return keys.Value.RetainFor > tokensLive ? keys.Value.RetainFor : tokensLive;
        }
    }

    public string? Name => Options.DefaultName;

    public static SigningKeyState StateOf(SigningKey key, DateTimeOffset now, TimeSpan retention)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.RevokedAt is not null ? SigningKeyState.Revoked
            : now < key.ActivatesAt ? SigningKeyState.Next
            : key.RetiresAt is not { } retires || now < retires ? SigningKeyState.Current
            : now < retires + retention ? SigningKeyState.Retiring
            : SigningKeyState.Retired;
    }

    /// <summary>
    /// The key that signs <paramref name="algorithm"/> now. Should none be current (its successor not read
    /// yet), the most recently activated published key of the series, which every node publishes too;
    /// null only before any key is loaded.
    /// </summary>
    public SigningCredentials? Current(string algorithm)
    {
        var now = clock.GetUtcNow();
        var series = current.Keys.Where(k => k.Row.Algorithm == algorithm).ToList();
        return (series.Where(k => StateOf(k.Row, now, Retention) == SigningKeyState.Current).MaxBy(static k => k.Row.ActivatesAt)
            ?? series.Where(k => k.Row.ActivatesAt <= now).MaxBy(static k => k.Row.ActivatesAt))?.Credentials;
    }

    /// <summary>Reads the keys again; when the published set changed, OpenIddict's options are rebuilt.</summary>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        await reloading.WaitAsync(cancellationToken);
        try
        {
            List<SigningKey> rows;
            using (var scope = scopes.CreateScope())
            {
                rows = await scope.ServiceProvider.GetRequiredService<ApplicationDbContext>().SigningKeys.AsNoTracking().ToListAsync(cancellationToken);
            }
            var now = clock.GetUtcNow();
            var keep = rows.Where(r => StateOf(r, now, Retention) is SigningKeyState.Next or SigningKeyState.Current or SigningKeyState.Retiring
                && r.ProtectedKey.Length > 0).ToList();
            // Keys already loaded are reused: unprotecting and importing a key costs more than reading the row.
            var loaded = current.Keys.ToDictionary(static k => k.Row.Id, StringComparer.Ordinal);
            var keys = keep.Select(r => loaded.TryGetValue(r.Id, out var known) ? known with { Row = r } : TryLoad(r))
                .OfType<Loaded>().ToImmutableArray();
            var published = string.Join(' ', keys.Select(static k => k.Row.Id).Order(StringComparer.Ordinal));
            var before = current;
            current = new Snapshot(keys, published);
            if (before.Published != published)
            {
                LogPublished(logger, published);
                // The server's options first: the validation options copy the keys from them when rebuilt,
                // which a listener may do as soon as they are told.
                var old = Interlocked.Exchange(ref changed, new CancellationTokenSource());
                await old.CancelAsync();
                old.Dispose();
                var oldValidation = Interlocked.Exchange(ref validationChanged, new CancellationTokenSource());
                await oldValidation.CancelAsync();
                oldValidation.Dispose();
            }
        }
        finally
        {
            reloading.Release();
        }
    }

    /// <summary>The private key as stored: PKCS#8, protected.</summary>
    public string Protect(AsymmetricAlgorithm key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var pkcs8 = key.ExportPkcs8PrivateKey();
        try
        {
            return WebEncoders.Base64UrlEncode(dataProtection.CreateProtector(Purpose).Protect(pkcs8));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    /// <summary>
    /// The key, or null (logged) when it cannot be opened, for example when the encryption certificate that
    /// protects its data-protection key was removed: the other keys stay in use, and the schedule replaces a
    /// signing key no node can open at the next rotation.
    /// </summary>
    private Loaded? TryLoad(SigningKey row)
    {
        try
        {
            return Load(row);
        }
        catch (CryptographicException error)
        {
            LogUnreadable(logger, error, row.Id);
            return null;
        }
    }

    private Loaded Load(SigningKey row)
    {
        var pkcs8 = dataProtection.CreateProtector(Purpose).Unprotect(WebEncoders.Base64UrlDecode(row.ProtectedKey));
        try
        {
            SecurityKey key;
            if (row.Algorithm == Es256)
            {
                var ec = ECDsa.Create();
                ec.ImportPkcs8PrivateKey(pkcs8, out _);
                key = new ECDsaSecurityKey(ec) { KeyId = row.Id };
            }
            else
            {
                var rsa = RSA.Create();
                rsa.ImportPkcs8PrivateKey(pkcs8, out _);
                key = new RsaSecurityKey(rsa) { KeyId = row.Id };
            }
            return new Loaded(row, new SigningCredentials(key, row.Algorithm));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    /// <summary>OpenIddict's signing credentials: every published key, the ones signing now first.</summary>
    public void Configure(OpenIddictServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var now = clock.GetUtcNow();
        foreach (var key in current.Keys.OrderBy(k => StateOf(k.Row, now, Retention) == SigningKeyState.Current ? 0 : 1)
            .ThenBy(static k => k.Row.Algorithm == Rs256 ? 0 : 1))
        {
            options.SigningCredentials.Add(key.Credentials);
        }
    }

    public IChangeToken GetChangeToken() => new CancellationChangeToken(changed.Token);

    IChangeToken IOptionsChangeTokenSource<OpenIddictValidationOptions>.GetChangeToken() => new CancellationChangeToken(validationChanged.Token);

    public void Dispose()
    {
        reloading.Dispose();
        changed.Dispose();
        validationChanged.Dispose();
    }

    [LoggerMessage(EventId = 4124, Level = LogLevel.Error, Message = "Signing key {KeyId} cannot be opened (its data-protection key is unreadable); it is left out.")]
    private static partial void LogUnreadable(ILogger logger, Exception error, string keyId);

    [LoggerMessage(EventId = 4120, Level = LogLevel.Information, Message = "Signing keys published: {KeyIds}.")]
    private static partial void LogPublished(ILogger logger, string keyIds);
}
