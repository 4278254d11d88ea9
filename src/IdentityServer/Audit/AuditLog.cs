using IdentityServer.Data;

namespace IdentityServer.Audit;

/// <summary>Records security events in the database (and the log). Request details come from the current HTTP request, if any.</summary>
public sealed partial class AuditLog(
    ApplicationDbContext database,
    IHttpContextAccessor httpContextAccessor,
    TimeProvider clock,
    ILogger<AuditLog> logger)
{
    /// <summary>Adds the event to the unit of work without saving: it is written with the change it describes.</summary>
    public SecurityEvent Add(string type, string? userId = null, string? userName = null, string? sessionId = null,
        string? clientId = null, string? actor = null, string? detail = null)
    {
        var request = httpContextAccessor.HttpContext;
        var entry = new SecurityEvent
        {
            Timestamp = clock.GetUtcNow(),
            Type = type,
            UserId = userId,
            UserName = userName,
            SessionId = sessionId,
            ClientId = clientId,
            IpAddress = request?.Connection.RemoteIpAddress?.ToString(),
            UserAgent = Truncate(request?.Request.Headers.UserAgent.ToString(), 512),
            Actor = actor,
            Detail = Truncate(detail, 256),
        };
        database.SecurityEvents.Add(entry);
        LogEvent(logger, type, userId, sessionId, clientId, actor, detail, entry.IpAddress);
        return entry;
    }

    /// <summary>Saves events added with <see cref="Add"/> (and anything else pending in the unit of work).</summary>
    public Task SaveAsync(CancellationToken cancellationToken) => database.SaveChangesAsync(cancellationToken);

    /// <summary>Records the event on its own.</summary>
    public async Task RecordAsync(string type, string? userId = null, string? userName = null, string? sessionId = null,
        string? clientId = null, string? actor = null, string? detail = null, CancellationToken cancellationToken = default)
    {
        Add(type, userId, userName, sessionId, clientId, actor, detail);
        await database.SaveChangesAsync(cancellationToken);
    }

    internal static string? Truncate(string? value, int length) =>
        string.IsNullOrEmpty(value) ? null : value.Length <= length ? value : value[..length];

    [LoggerMessage(EventId = 4100, Level = LogLevel.Information,
        Message = "Security event {Type}: user {UserId}, session {SessionId}, client {ClientId}, actor {Actor}, detail {Detail}, from {RemoteIp}.")]
    private static partial void LogEvent(ILogger logger, string type, string? userId, string? sessionId, string? clientId, string? actor, string? detail, string? remoteIp);
}
