using Microsoft.Extensions.Configuration;

namespace Realtime.Contracts.Hosting;

/// <summary>
/// Whether a node records traces and carries trace context in its Orleans calls: <c>Telemetry:Tracing</c>, or, when it
/// is not set, whether an OTLP endpoint is (<c>Telemetry:OtlpEndpoint</c>, <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>). Silos,
/// gateways and the services' cluster client read it the same way, so that a trace crosses them all.
/// </summary>
public static class RealtimeTracing
{
    /// <summary>Whether <paramref name="configuration"/> turns tracing on.</summary>
    public static bool IsOn(IConfiguration configuration) =>
        configuration.GetValue<bool?>("Telemetry:Tracing") ?? IsOtlpConfigured(configuration);

    /// <summary>Whether <paramref name="configuration"/> names an OTLP collector: <c>Telemetry:OtlpEndpoint</c> or <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>.</summary>
    public static bool IsOtlpConfigured(IConfiguration configuration) =>
        !string.IsNullOrEmpty(configuration["Telemetry:OtlpEndpoint"]) || !string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
}
