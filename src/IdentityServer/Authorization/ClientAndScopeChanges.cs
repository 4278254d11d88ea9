using IdentityServer.Data;
using Npgsql;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityServer.Authorization;

/// <summary>
/// Keeps every node's client and scope lookups (<see cref="LookupCache{TEntity}"/>) and signing keys
/// (<see cref="Keys.SigningKeyRing"/>) true when a client, scope or key changes: the node that changed it drops its own at once and, on PostgreSQL, tells
/// the others with <c>NOTIFY</c> on <see cref="Channel"/> after the change is committed;
/// <see cref="ClientAndScopeChangeListener"/> on each node drops theirs when told. A node that lost
/// its listening connection drops its caches when it listens again, and the caches' one-minute
/// lifetime bounds what a node could miss in between. SQLite is one node: dropping locally is all.
/// </summary>
internal sealed class ClientAndScopeChanges(
    IConfiguration configuration,
    LookupCache<OpenIddictEntityFrameworkCoreApplication> applications,
    LookupCache<OpenIddictEntityFrameworkCoreScope> scopes,
    ILogger<ClientAndScopeChanges> logger)
{
    public const string Channel = "idp_clients_and_scopes_changed";

    private readonly string? postgres = DatabaseSetup.ReadProvider(configuration) == DatabaseProvider.Postgres
        ? configuration.GetConnectionString("Default")
        : null;

    /// <summary>The connection string of the shared database, or null on SQLite (one node).</summary>
    public string? SharedDatabase => postgres;

    /// <summary>After a client or scope was changed here: this node forgets now, the others when notified.</summary>
    public async Task PublishAsync(CancellationToken cancellationToken)
    {
        // The change is committed: the notice goes out even if the request that made it is cancelled now.
        _ = cancellationToken;
        Forget();
        if (postgres is null)
        {
            return;
        }
        try
        {
            await using var connection = new NpgsqlConnection(postgres);
            await connection.OpenAsync(CancellationToken.None);
            await using var notify = new NpgsqlCommand($"NOTIFY {Channel}", connection);
            await notify.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (NpgsqlException error)
        {
            // The change itself is committed; the other nodes see it within their caches' lifetime.
            logger.LogWarning(error, "Could not notify the other nodes of a client or scope change; they see it within a minute.");
        }
    }

    /// <summary>Drops this node's client and scope lookups, and tells the subscribers (the signing key ring reads its keys again).</summary>
    public void Forget()
    {
        applications.Clear();
        scopes.Clear();
        Changed?.Invoke();
    }

    /// <summary>Raised on this node after any client, scope or signing key change here or on another node.</summary>
    public event Action? Changed;
}

/// <summary>
/// On PostgreSQL, listens on <see cref="ClientAndScopeChanges.Channel"/> with a connection of its own
/// and drops this node's client and scope lookups at every notification; reconnects after a failure.
/// </summary>
internal sealed class ClientAndScopeChangeListener(ClientAndScopeChanges changes, ILogger<ClientAndScopeChangeListener> logger) : BackgroundService
{
    /// <summary>How long a quiet connection waits before it checks it is still alive.</summary>
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (changes.SharedDatabase is not { } database)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(database, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error) when (error is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                logger.LogWarning(error, "Stopped listening for client and scope changes; listening again in {Seconds} s.", Retry.TotalSeconds);
                await Task.Delay(Retry, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task ListenAsync(string database, CancellationToken stoppingToken)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(stoppingToken);
        connection.Notification += (_, _) => changes.Forget();
        await using (var listen = new NpgsqlCommand($"LISTEN {ClientAndScopeChanges.Channel}", connection))
        {
            await listen.ExecuteNonQueryAsync(stoppingToken);
        }
        // Whatever changed while this node was not listening.
        changes.Forget();
        while (true)
        {
            if (!await connection.WaitAsync(Heartbeat, stoppingToken))
            {
                await using var ping = new NpgsqlCommand("SELECT 1", connection);
                await ping.ExecuteScalarAsync(stoppingToken);
            }
        }
    }
}
