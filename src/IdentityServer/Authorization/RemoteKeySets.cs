using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Net.Http.Headers;
using System.Text.Json;
using IdentityServer.BackchannelLogout;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Authorization;

/// <summary>How the key sets of clients registered with a <c>jwks_uri</c> are fetched, bound from <c>ClientKeySets</c>.</summary>
public sealed class RemoteKeySetOptions
{
    public const string Section = "ClientKeySets";

    /// <summary>How long a fetched key set is used before it is fetched again.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The least time between two fetches of one set: an assertion signed with a key the cached set lacks
    /// (a rotation) fetches it again at once, but no more often than this, and a failed fetch is not retried sooner.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan MinRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one fetch may take, connection included.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The largest answer read, in bytes; a longer one is refused unread.</summary>
    [Range(1024, 1024 * 1024)]
    public int MaxBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// How long the last good set is still used, past its cache duration, while its <c>jwks_uri</c> cannot be
    /// reached (a timeout, a connection error, a 5xx). A definite answer (another status, a set that is not
    /// usable) drops it at once: that is how a client withdraws its keys.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan StaleWhileFailing { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// The public keys of clients registered with a <c>jwks_uri</c> (RFC 7591 2, OpenID Connect Core 9 for
/// <c>private_key_jwt</c>), fetched from the client and cached. A fetch is refused when the answer is not a
/// 200 JSON key set of public keys (<see cref="ClientKeys.Problems"/>), longer than the size limit or slower
/// than the timeout, and goes out through the same guarded connector as back-channel logout
/// (<see cref="BackchannelLogoutConnector"/>): no redirect, no proxy, and no loopback, private, link-local,
/// metadata or reserved address unless the client is allowed on private networks
/// (<c>BackchannelLogout:AllowPrivateNetworks</c>; every client in Development), checked on the addresses the
/// name resolves to when connecting.
/// </summary>
internal sealed partial class RemoteKeySets(
    IHttpClientFactory clients, BackchannelLogoutTargets targets, IOptions<RemoteKeySetOptions> options, TimeProvider clock, ILogger<RemoteKeySets> logger)
{
    /// <summary>The application property that holds a client's <c>jwks_uri</c>.</summary>
    public const string Property = "jwks_uri";

    public const string HttpClientName = "client-jwks";
    public const string PrivateNetworksHttpClientName = "client-jwks-private";

    private readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<Entry>>> fetches = new(StringComparer.Ordinal);

    /// <summary>
    /// The client's current key set: cached while fresh; fetched again when stale, or when it lacks
    /// <paramref name="kid"/> (a rotated key) and the last fetch is older than the refresh interval. Null when
    /// no good set could be had.
    /// </summary>
    public async Task<JsonWebKeySet?> GetAsync(string clientId, Uri uri, string? kid, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var key = Key(clientId, uri);
        var now = clock.GetUtcNow();
        if (entries.TryGetValue(key, out var entry))
        {
            var age = now - entry.FetchedAt;
            var lacksKid = kid is not null && entry.Set is not null && !entry.Set.Keys.Any(k => k.Kid == kid);
            if ((age < settings.CacheDuration && !(lacksKid && age >= settings.MinRefreshInterval) && entry.Set is not null)
                || age < settings.MinRefreshInterval)
            {
                return entry.Set ?? entry.Stale;
            }
        }

        // One fetch at a time per client and URI; concurrent callers share it, and it is kept even if they give up.
        var fetch = fetches.GetOrAdd(key, _ => new Lazy<Task<Entry>>(async () => entries[key] = await FetchAsync(clientId, uri, entry)));
        try
        {
            var fetched = await fetch.Value.WaitAsync(cancellationToken);
            return fetched.Set ?? fetched.Stale;
        }
        finally
        {
            fetches.TryRemove(new KeyValuePair<string, Lazy<Task<Entry>>>(key, fetch));
        }
    }

    /// <summary>
    /// The set as last fetched, without fetching: for OpenIddict's key lookup, which waits synchronously and
    /// comes right after <see cref="GetAsync"/> has fetched what was needed.
    /// </summary>
    public JsonWebKeySet? Peek(string clientId, Uri uri) =>
        entries.TryGetValue(Key(clientId, uri), out var entry) ? entry.Set ?? entry.Stale : null;

    /// <summary>The client's <c>jwks_uri</c>, from its application properties; null when it has its keys inline or none.</summary>
    public static Uri? UriOf(System.Collections.Immutable.ImmutableDictionary<string, JsonElement> properties) =>
        properties.TryGetValue(Property, out var value) && value.ValueKind == JsonValueKind.String
        && Uri.TryCreate(value.GetString(), UriKind.Absolute, out var uri) ? uri : null;

    private static string Key(string clientId, Uri uri) => clientId.Length + ":" + clientId + ":" + uri.AbsoluteUri;

    private async Task<Entry> FetchAsync(string clientId, Uri uri, Entry? previous)
    {
        var settings = options.Value;
        // The last good set stays usable for a while (its cache duration and StaleWhileFailing) when the client's endpoint fails.
        var lastGood = previous?.Set ?? previous?.Stale;
        var lastGoodAt = previous?.Set is not null ? previous.FetchedAt : previous?.StaleSince;
        if (lastGoodAt is { } at && clock.GetUtcNow() - at >= settings.CacheDuration + settings.StaleWhileFailing)
        {
            lastGood = null;
        }
        try
        {
            var http = clients.CreateClient(targets.AllowsPrivateNetworks(clientId) ? PrivateNetworksHttpClientName : HttpClientName);
            using var timeout = new CancellationTokenSource(settings.Timeout);
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/jwk-set+json"));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (response.StatusCode != System.Net.HttpStatusCode.OK)
            {
                return Failed($"answered {(int)response.StatusCode}", unreachable: (int)response.StatusCode >= 500);
            }
            if (response.Content.Headers.ContentLength > settings.MaxBytes)
            {
                return Failed($"answered {response.Content.Headers.ContentLength} bytes, over the limit of {settings.MaxBytes}", unreachable: false);
            }
            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            var buffer = new byte[settings.MaxBytes + 1];
            var read = 0;
            int count;
            while (read < buffer.Length && (count = await body.ReadAsync(buffer.AsMemory(read), timeout.Token)) > 0)
            {
                read += count;
            }
            if (read > settings.MaxBytes)
            {
                return Failed($"answered more than {settings.MaxBytes} bytes", unreachable: false);
            }
            using var document = JsonDocument.Parse(buffer.AsMemory(0, read));
            if (ClientKeys.Problems(document.RootElement) is { Count: > 0 } problems)
            {
                return Failed("answered a key set that " + problems[0], unreachable: false);
            }
            return new Entry(ClientKeys.PublicOnly(document.RootElement), clock.GetUtcNow(), null, null);
        }
        catch (JsonException)
        {
            return Failed("answered something that is not JSON", unreachable: false);
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or BackchannelLogoutTargetRefusedException or IOException)
        {
            return Failed(exception is OperationCanceledException ? $"did not answer within {settings.Timeout.TotalSeconds:0.#} s" : exception.Message,
                unreachable: exception is not BackchannelLogoutTargetRefusedException);
        }

        // Only while the endpoint cannot be reached is the last good set kept; a definite answer drops it.
        Entry Failed(string reason, bool unreachable)
        {
            LogFetchFailed(logger, clientId, uri.AbsoluteUri, reason);
            var kept = unreachable ? lastGood : null;
            return new Entry(null, clock.GetUtcNow(), kept, kept is null ? null : lastGoodAt);
        }
    }

    [LoggerMessage(EventId = 4140, Level = LogLevel.Warning, Message = "The key set of client {ClientId} at {Uri} could not be used: it {Reason}.")]
    private static partial void LogFetchFailed(ILogger logger, string clientId, string uri, string reason);

    /// <summary>A fetch's outcome: the set, or none (and the last good one, still usable for a while).</summary>
    private sealed record Entry(JsonWebKeySet? Set, DateTimeOffset FetchedAt, JsonWebKeySet? Stale, DateTimeOffset? StaleSince);
}
