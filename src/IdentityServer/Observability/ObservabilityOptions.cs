using System.ComponentModel.DataAnnotations;

namespace IdentityServer.Observability;

/// <summary>Bound from the <c>OpenTelemetry</c> configuration section.</summary>
public sealed class ObservabilityOptions
{
    public const string Section = "OpenTelemetry";

    public OtlpSettings Otlp { get; set; } = new();

    /// <summary>How often metrics are pushed; empty: OpenTelemetry's default (60 s, or <c>OTEL_METRIC_EXPORT_INTERVAL</c>).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan? ExportInterval { get; set; }

    /// <summary>How old the count behind <c>idp.sessions.active</c> may get before it is counted again.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ActiveSessionsRefresh { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The <c>service.name</c> resource attribute (the standard <c>OTEL_SERVICE_NAME</c> wins when set).</summary>
    [Required]
    public string ServiceName { get; set; } = "identity-server";

    public sealed class OtlpSettings
    {
        /// <summary>
        /// The collector, for example <c>http://collector:4317</c> (gRPC) or <c>http://collector:4318</c>
        /// (<c>http/protobuf</c>). Empty: no exporter, unless the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
        /// </summary>
        public Uri? Endpoint { get; set; }

        /// <summary><c>grpc</c> (default) or <c>http/protobuf</c>.</summary>
        public string? Protocol { get; set; }
    }
}
