using IdentityServer.Authorization;
using IdentityServer.Scheduling;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using Quartz;

namespace IdentityServer.Keys;

internal static class KeysSetup
{
    /// <summary>
    /// The signing keys' mode (<see cref="KeyOptions.EffectiveMode"/>). Automatic: the ring gives OpenIddict
    /// the server's own keys and rebuilds its options when the published set changes; the rotation job
    /// runs every <see cref="KeyOptions.CheckInterval"/> (on one node of a cluster per firing); every node
    /// reads the keys again every minute and at every change notice.
    /// </summary>
    public static WebApplicationBuilder AddSigningKeys(this WebApplicationBuilder builder)
    {
        var mode = KeyOptions.EffectiveMode(builder.Configuration);
        builder.Services.AddOptions<KeyOptions>()
            .Bind(builder.Configuration.GetSection(KeyOptions.Section))
            .PostConfigure(options => options.Mode = mode)
            .ValidateDataAnnotations()
            .Validate(static options => options.PublishAhead < options.RotationInterval,
                "Keys:PublishAhead must be shorter than Keys:RotationInterval: the next key is published that long before it signs.")
            .ValidateOnStart();
        builder.Services.AddSingleton<SigningKeyRing>();
        if (mode != KeyMode.Automatic)
        {
            return builder;
        }
        builder.Services.AddSingleton<IConfigureOptions<OpenIddictServerOptions>>(static services => services.GetRequiredService<SigningKeyRing>());
        builder.Services.AddSingleton<IOptionsChangeTokenSource<OpenIddictServerOptions>>(static services => services.GetRequiredService<SigningKeyRing>());
        // The admin API validates tokens with the server's keys (UseLocalServer), copied when its options are built.
        builder.Services.AddSingleton<IOptionsChangeTokenSource<OpenIddict.Validation.OpenIddictValidationOptions>>(static services => services.GetRequiredService<SigningKeyRing>());
        builder.Services.AddScoped<KeyRotation>();
        builder.Services.AddHostedService<SigningKeyRefresh>();
        var interval = builder.Configuration.GetSection(KeyOptions.Section).Get<KeyOptions>()?.CheckInterval ?? new KeyOptions().CheckInterval;
        builder.AddRecurringJob<KeyRotationJob>(KeyRotationJob.Key, "rotate-signing-keys", interval);
        return builder;
    }

    /// <summary>
    /// With automatic keys, makes sure a key signs before the server answers anything (the first start
    /// creates it; a node starting after a long stop schedules the next one) and loads them. Called inside
    /// the start-up lock, so nodes starting together create one key.
    /// </summary>
    public static async Task EnsureSigningKeysAsync(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<KeyOptions>>().Value.Mode != KeyMode.Automatic)
        {
            return;
        }
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<KeyRotation>().EnsureAsync(app.Lifetime.ApplicationStopping);
        app.Logger.LogInformation("Signing keys are made and rotated by the server (Keys:Mode=Automatic), stored in the database (table SigningKeys), encrypted.");
    }
}

/// <summary>Creates the next signing key when it is due, and erases retired ones (<see cref="KeyRotation.EnsureAsync"/>).</summary>
[DisallowConcurrentExecution]
internal sealed class KeyRotationJob(KeyRotation rotation) : IJob
{
    public static readonly JobKey Key = new("rotate-signing-keys");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        await rotation.EnsureAsync(cancellationToken);
    }
}

/// <summary>
/// Reads the signing keys again every minute (a key that stopped being published leaves the JWKS) and at
/// every change notice from any node (a new or revoked key).
/// </summary>
internal sealed partial class SigningKeyRefresh(SigningKeyRing ring, ClientAndScopeChanges changes, ILogger<SigningKeyRefresh> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var wake = new SemaphoreSlim(0);
        void OnChanged() => wake.Release();
        changes.Changed += OnChanged;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await wake.WaitAsync(Interval, stoppingToken);
                try
                {
                    await ring.ReloadAsync(stoppingToken);
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    LogReloadFailed(logger, error);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            changes.Changed -= OnChanged;
        }
    }

    [LoggerMessage(EventId = 4123, Level = LogLevel.Warning, Message = "Could not read the signing keys again; the ones loaded stay in use.")]
    private static partial void LogReloadFailed(ILogger logger, Exception error);
}
