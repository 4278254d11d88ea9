using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace IdentityServer.Observability;

/// <summary>
/// Metrics: the server's own instruments (<see cref="IdentityServerMetrics"/>) and, when an OTLP
/// collector is configured, an OpenTelemetry exporter for them and for ASP.NET Core's and the
/// runtime's. Without a collector no exporter, listener or background work exists.
/// Traces are not exported: span attributes would carry request URLs, and some requests
/// (end-session with <c>id_token_hint</c>) put a token in the query string.
/// </summary>
internal static class ObservabilitySetup
{
    /// <summary>Every meter exported: ours, request latency and server/connection counts, sign-in and authentication, the runtime.</summary>
    public static readonly string[] Meters =
    [
        IdentityServerMetrics.MeterName,
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Diagnostics",
        "Microsoft.AspNetCore.Authentication",
        "Microsoft.AspNetCore.Identity",
        "Microsoft.AspNetCore.RateLimiting",
        "System.Runtime",
    ];

    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(ObservabilityOptions.Section);
        builder.Services.AddOptions<ObservabilityOptions>()
            .Bind(section)
            .ValidateDataAnnotations()
            .Validate(static o => o.Otlp.Protocol is null or "grpc" or "http/protobuf", "OpenTelemetry:Otlp:Protocol must be grpc or http/protobuf.")
            .ValidateOnStart();
        // Every logger masks tokens, credentials and sensitive parameters, whichever library writes
        // and whatever level an operator turns on.
        builder.Services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(static services => new RedactingLoggerFactory(new LoggerFactory(
            services.GetServices<ILoggerProvider>(),
            services.GetRequiredService<IOptionsMonitor<LoggerFilterOptions>>(),
            services.GetService<IOptions<LoggerFactoryOptions>>(),
            services.GetService<IExternalScopeProvider>()))));
        builder.Services.AddSingleton<ActiveSessionsGauge>();
        builder.Services.AddSingleton<IdentityServerMetrics>();

        var settings = section.Get<ObservabilityOptions>() ?? new ObservabilityOptions();
        var standardEndpoint = builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? builder.Configuration["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"];
        if (settings.Otlp.Endpoint is null && string.IsNullOrEmpty(standardEndpoint))
        {
            return builder;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : settings.ServiceName))
            .WithMetrics(metrics => metrics
                .AddMeter(Meters)
                // Creates our instruments when the exporter starts, so the gauge is exported before any token is issued.
                .AddInstrumentation(static services => services.GetRequiredService<IdentityServerMetrics>())
                .AddOtlpExporter((exporter, reader) =>
                {
                    if (settings.Otlp.Endpoint is { } endpoint)
                    {
                        var protobuf = settings.Otlp.Protocol == "http/protobuf";
                        exporter.Protocol = protobuf ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
                        // A configured HTTP endpoint is taken as the full URL: add the signal's path as the
                        // standard variable does, so both settings take the same collector address.
                        exporter.Endpoint = protobuf && !endpoint.AbsolutePath.EndsWith("/v1/metrics", StringComparison.Ordinal)
                            ? new Uri(endpoint, endpoint.AbsolutePath.TrimEnd('/') + "/v1/metrics")
                            : endpoint;
                    }
                    if (settings.ExportInterval is { } interval)
                    {
                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)interval.TotalMilliseconds;
                    }
                }));
        return builder;
    }
}
