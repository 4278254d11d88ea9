using IdentityServer.Data;
using IdentityServer.Sessions;
using OpenIddict.Abstractions;
using Quartz;

namespace IdentityServer.BackchannelLogout;

/// <summary>
/// Writes the logout notifications an ended session owes (one per client of the session that
/// registered a back-channel logout URI) into the unit of work that ends the session, and wakes the
/// delivery job once that work is committed. Delivery never happens inside the ending request.
/// </summary>
public sealed class BackchannelLogoutOutbox(
    ApplicationDbContext database,
    IOpenIddictApplicationManager applications,
    ISchedulerFactory schedulers,
    TimeProvider clock)
{
    /// <summary>Name of the application property that holds the client's back-channel logout URI.</summary>
    public const string UriProperty = "backchannel_logout_uri";

    /// <summary>The Quartz job that delivers pending notifications.</summary>
    public static readonly JobKey JobKey = new("deliver-backchannel-logout");

    /// <summary>Adds the notifications for <paramref name="session"/> without saving; returns how many.</summary>
    public async Task<int> AddAsync(UserSession session, IEnumerable<string> clientIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var now = clock.GetUtcNow();
        var added = 0;
        foreach (var clientId in clientIds.Distinct(StringComparer.Ordinal))
        {
            if (await FindUriAsync(clientId, cancellationToken) is not { } uri)
            {
                continue;
            }
            database.BackchannelLogoutDeliveries.Add(new BackchannelLogoutDelivery
            {
                SessionId = session.Id,
                ClientId = clientId,
                Uri = uri,
                Subject = session.UserId,
                Issuer = session.Issuer,
                CreatedAt = now,
                NextAttemptAt = now,
                Status = BackchannelLogoutStatus.Pending,
            });
            added++;
        }
        return added;
    }

    /// <summary>Asks the delivery job to run now (it also runs on its own schedule).</summary>
    public async Task SignalAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        if (scheduler.Status != SchedulerStatus.Shutdown && await scheduler.Exists(JobKey, cancellationToken))
        {
            await scheduler.TriggerJob(JobKey, cancellationToken);
        }
    }

    private async Task<string?> FindUriAsync(string clientId, CancellationToken cancellationToken)
    {
        if (await applications.FindByClientIdAsync(clientId, cancellationToken) is not { } application)
        {
            return null;
        }
        var properties = await applications.GetPropertiesAsync(application, cancellationToken);
        return properties.TryGetValue(UriProperty, out var value) && value.ValueKind == System.Text.Json.JsonValueKind.String
            ? value.GetString()
            : null;
    }
}
