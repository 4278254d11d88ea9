using ClientSamples.Shared;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;

namespace ClientSamples.Worker;

/// <summary>Calls the API every <see cref="WorkerSettings.Interval"/> with the cached token and logs each answer.</summary>
internal sealed partial class ApiCaller(
    HttpClient http, AccessTokenCache tokens, DPoPKey key, IOptions<WorkerSettings> settings, ILogger<ApiCaller> logger) : BackgroundService
{
    private int calls;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.Value.Interval);
        do
        {
            try
            {
                await CallAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is HttpRequestException or OpenIddict.Abstractions.OpenIddictExceptions.ProtocolException
                                              or InvalidOperationException)
            {
                // The identity provider or the API is down or refused us: try again next time.
                LogCallFailed(exception.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task CallAsync(CancellationToken cancellationToken)
    {
        var token = await tokens.GetAsync(cancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(http.BaseAddress!, "api/hello"));
        // The token is DPoP-bound: it goes with the DPoP scheme and a proof for this call, signed by the worker's key.
        request.Headers.Authorization = new AuthenticationHeaderValue("DPoP", token);
        request.Headers.Add("DPoP", key.Proof(HttpMethod.Get, request.RequestUri!, token));
        using var response = await http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            // Revoked or otherwise refused before its expiry: the next call asks for a new one.
            tokens.Invalidate();
        }
        LogCall(Interlocked.Increment(ref calls), (int)response.StatusCode, body);
    }

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Api call {Count}: {Status} {Body}")]
    private partial void LogCall(int count, int status, string body);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Api call failed: {Reason}")]
    private partial void LogCallFailed(string reason);
}
