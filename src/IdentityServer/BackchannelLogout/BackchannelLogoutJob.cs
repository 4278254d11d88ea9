using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Sessions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Quartz;

namespace IdentityServer.BackchannelLogout;

/// <summary>
/// Delivers the logout notifications that ended sessions queued (<see cref="BackchannelLogoutOutbox"/>):
/// POSTs a logout token to each client's back-channel logout URI. A 2xx answer completes the
/// notification; anything else is tried again later with a doubling delay, and given up as failed
/// (with a security event) after <see cref="BackchannelLogoutOptions.MaxAttempts"/>. A URI that leads
/// to an address the client may not use (<see cref="BackchannelLogoutTargets"/>) fails at once: asking
/// again would not change the answer. Runs when a session ends and every
/// <see cref="BackchannelLogoutOptions.PollInterval"/>; one run at a time.
/// </summary>
[DisallowConcurrentExecution]
internal sealed partial class BackchannelLogoutJob(
    ApplicationDbContext database,
    LogoutTokenFactory logoutTokens,
    IHttpClientFactory httpClients,
    BackchannelLogoutTargets targets,
    AuditLog audit,
    IOptions<BackchannelLogoutOptions> options,
    TimeProvider clock,
    ILogger<BackchannelLogoutJob> logger) : IJob
{
    /// <summary>The named HTTP client: no redirects, no cookies, no proxy, <see cref="BackchannelLogoutOptions.Timeout"/>, public addresses only.</summary>
    public const string HttpClientName = "backchannel-logout";

    /// <summary>The same, for clients that may use private networks (<see cref="BackchannelLogoutTargets.AllowsPrivateNetworks"/>).</summary>
    public const string PrivateNetworksHttpClientName = "backchannel-logout-private-networks";

    /// <summary>The length of <see cref="BackchannelLogoutDelivery.LastError"/>'s column.</summary>
    private const int LastErrorLength = 256;

    /// <summary>Rows read and updated per round trip: bounds memory and the length of one write.</summary>
    internal const int BatchSize = 50;

    /// <summary>One slow client must not hold up everyone else's notifications for a whole timeout each.</summary>
    private const int ParallelRequests = 4;

    private BackchannelLogoutOptions Options => options.Value;

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Result = await RunAsync(cancellationToken);
    }

    public async Task<BackchannelLogoutResult> RunAsync(CancellationToken cancellationToken)
    {
        using var publicHttp = httpClients.CreateClient(HttpClientName);
        using var privateHttp = httpClients.CreateClient(PrivateNetworksHttpClientName);
        int delivered = 0, retrying = 0, failed = 0;
        while (true)
        {
            var now = clock.GetUtcNow();
            var batch = await database.BackchannelLogoutDeliveries
                .Where(d => d.Status == BackchannelLogoutStatus.Pending && d.NextAttemptAt <= now)
                .OrderBy(d => d.NextAttemptAt).ThenBy(d => d.Id)
                .Take(BatchSize)
                .ToListAsync(cancellationToken);
            if (batch.Count == 0)
            {
                break;
            }

            // Only the HTTP calls run in parallel; the DbContext is touched by this thread alone.
            var errors = new Failure?[batch.Count];
            await Parallel.ForEachAsync(
                Enumerable.Range(0, batch.Count),
                new ParallelOptions { MaxDegreeOfParallelism = ParallelRequests, CancellationToken = cancellationToken },
                async (i, token) => errors[i] = await SendAsync(
                    targets.AllowsPrivateNetworks(batch[i].ClientId) ? privateHttp : publicHttp, batch[i], token));

            var finishedAt = clock.GetUtcNow();
            for (var i = 0; i < batch.Count; i++)
            {
                switch (Record(batch[i], errors[i], finishedAt))
                {
                    case BackchannelLogoutStatus.Delivered:
                        delivered++;
                        break;
                    case BackchannelLogoutStatus.Failed:
                        failed++;
                        break;
                    default:
                        retrying++;
                        break;
                }
            }
            await database.SaveChangesAsync(cancellationToken);

            // Every row of this batch is now done or due later, so the next query sees only others.
            if (batch.Count < BatchSize)
            {
                break;
            }
        }

        if (delivered + retrying + failed > 0)
        {
            LogRun(logger, delivered, retrying, failed);
        }
        return new BackchannelLogoutResult(delivered, retrying, failed);
    }

    /// <summary>Posts the logout token; null when the client accepted it, otherwise what went wrong (never the response body).</summary>
    private async Task<Failure?> SendAsync(HttpClient http, BackchannelLogoutDelivery delivery, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(delivery.Uri, UriKind.Absolute))
            {
                Content = new FormUrlEncodedContent([new("logout_token", logoutTokens.Create(delivery))]),
            };
            // Headers only: the body is of no interest and a hostile client could make it large.
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            return response.IsSuccessStatusCode ? null : new Failure($"HTTP {(int)response.StatusCode}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Failure("timeout");
        }
        catch (HttpRequestException exception) when (exception.InnerException is BackchannelLogoutTargetRefusedException refused)
        {
            LogRefused(logger, delivery.ClientId, refused.Message);
            return new Failure("refused: " + refused.Message, Final: true);
        }
        catch (HttpRequestException exception)
        {
            return new Failure($"{nameof(HttpRequestException)} ({exception.HttpRequestError})");
        }
    }

    private string Record(BackchannelLogoutDelivery delivery, Failure? failure, DateTimeOffset now)
    {
        if (failure is null)
        {
            delivery.Status = BackchannelLogoutStatus.Delivered;
            delivery.CompletedAt = now;
            delivery.LastError = null;
            return delivery.Status;
        }

        var error = failure.Error.Length <= LastErrorLength ? failure.Error : failure.Error[..LastErrorLength];
        delivery.Attempts++;
        delivery.LastError = error;
        if (failure.Final || delivery.Attempts >= Options.MaxAttempts)
        {
            delivery.Status = BackchannelLogoutStatus.Failed;
            delivery.CompletedAt = now;
            audit.Add(SecurityEventTypes.BackchannelLogoutFailed, userId: delivery.Subject, sessionId: delivery.SessionId,
                clientId: delivery.ClientId, actor: SessionService.SystemActor, detail: $"{delivery.Attempts} attempts, last: {error}");
            return delivery.Status;
        }

        delivery.NextAttemptAt = now + RetryDelay(delivery.Attempts);
        return delivery.Status;
    }

    /// <summary><c>RetryDelay × 2^(attempts − 1)</c>, at most <c>MaxRetryDelay</c>.</summary>
    internal TimeSpan RetryDelay(int attempts)
    {
        var delay = Options.RetryDelay;
        for (var i = 1; i < attempts && delay < Options.MaxRetryDelay; i++)
        {
            delay *= 2;
        }
        return delay < Options.MaxRetryDelay ? delay : Options.MaxRetryDelay;
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information,
        Message = "Back-channel logout: {Delivered} notifications delivered, {Retrying} to be retried, {Failed} given up.")]
    private static partial void LogRun(ILogger logger, int delivered, int retrying, int failed);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning,
        Message = "Back-channel logout to client {ClientId} refused and given up: {Reason}.")]
    private static partial void LogRefused(ILogger logger, string clientId, string reason);

    /// <summary>Why an attempt failed; <paramref name="Final"/> when trying again cannot help.</summary>
    private sealed record Failure(string Error, bool Final = false);
}

/// <summary>What one delivery run did.</summary>
public sealed record BackchannelLogoutResult(int Delivered, int Retrying, int Failed);
