using Microsoft.Extensions.Options;
using OpenIddict.Client;

namespace ClientSamples.Worker;

/// <summary>
/// One client-credentials token shared by every call until shortly before it expires: asking the identity
/// provider for a token per call would cost it a signature and a database write each time, for nothing.
/// </summary>
internal sealed partial class AccessTokenCache(
    OpenIddictClientService client, IOptions<WorkerSettings> settings, TimeProvider time, ILogger<AccessTokenCache> logger) : IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private CachedToken? current;
    private int requests;

    /// <summary>How many tokens were requested from the identity provider so far.</summary>
    public int TokenRequests => Volatile.Read(ref requests);

    public async Task<string> GetAsync(CancellationToken cancellationToken)
    {
        if (Fresh(Volatile.Read(ref current)) is { } token)
        {
            return token;
        }

        // One request at a time: callers that find the token stale together wait for the same new one.
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (Fresh(current) is { } renewed)
            {
                return renewed;
            }
            OpenIddictClientModels.ClientCredentialsAuthenticationResult result;
            try
            {
                result = await RequestAsync(cancellationToken);
            }
            catch (OpenIddict.Abstractions.OpenIddictExceptions.ProtocolException exception) when (exception.Error == "use_dpop_nonce")
            {
                // The identity provider wants its nonce in the proof (RFC 9449 8); its answer carried one: ask again once.
                result = await RequestAsync(cancellationToken);
            }
            // Without expires_in, assume the token is good for one interval only.
            var expires = result.AccessTokenExpirationDate ?? time.GetUtcNow() + settings.Value.Interval;
            Volatile.Write(ref current, new CachedToken(result.AccessToken, expires - settings.Value.RenewBefore));
            LogTokenRequested(Interlocked.Increment(ref requests), expires);
            return result.AccessToken;
        }
        finally
        {
            gate.Release();
        }
    }

    private ValueTask<OpenIddictClientModels.ClientCredentialsAuthenticationResult> RequestAsync(CancellationToken cancellationToken) =>
        client.AuthenticateWithClientCredentialsAsync(new()
        {
            Scopes = [.. settings.Value.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries)],
            CancellationToken = cancellationToken,
        });

    /// <summary>Forgets the token, for example after the API refused it (revoked before it expired).</summary>
    public void Invalidate() => Volatile.Write(ref current, null);

    public void Dispose() => gate.Dispose();

    private string? Fresh(CachedToken? token) => token is not null && time.GetUtcNow() < token.RenewAt ? token.Value : null;

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Token request {Count}: new access token, expires at {Expires:O}")]
    private partial void LogTokenRequested(int count, DateTimeOffset expires);

    private sealed record CachedToken(string Value, DateTimeOffset RenewAt);
}
