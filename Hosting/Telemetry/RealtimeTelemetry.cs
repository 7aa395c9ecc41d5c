using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Realtime.Hosting;

/// <summary>Settings of metrics on gateways and silos (configuration section <c>Telemetry</c>).</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>Serve every meter in Prometheus' text format at <see cref="MetricsPath"/>.</summary>
    public bool Prometheus { get; set; } = true;

    /// <summary>Where the Prometheus text is served.</summary>
    public string MetricsPath { get; set; } = "/metrics";

    /// <summary>
    /// An OpenTelemetry collector's OTLP endpoint (<c>http://collector:4317</c>) to push metrics to. Also taken from
    /// the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variable, with the other <c>OTEL_EXPORTER_OTLP_*</c> settings.
    /// </summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>How metrics are pushed over OTLP: <c>grpc</c>, or <c>http/protobuf</c> (then the endpoint is the full URL, <c>.../v1/metrics</c>).</summary>
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>How often metrics are pushed over OTLP.</summary>
    public TimeSpan OtlpExportInterval { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// OpenTelemetry metrics for a gateway or a silo: the project's meters, Orleans' own, ASP.NET Core's (HTTP, Kestrel,
/// SignalR's connections) and the .NET runtime's, exported in Prometheus' text format and, when an endpoint is
/// configured, over OTLP.
/// </summary>
public static class RealtimeTelemetry
{
    private static readonly string[] StandardMeters =
    [
        "Microsoft.Orleans", "System.Runtime", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Http.Connections", "Microsoft.AspNetCore.Authentication",
    ];

    /// <summary>The most tag sets each metric of the frameworks' meters (Orleans, ASP.NET Core, the runtime) keeps.</summary>
    private const int FrameworkCardinalityLimit = 200;

    public static IHostApplicationBuilder AddRealtimeTelemetry(this IHostApplicationBuilder builder, string serviceName, params string[] meters)
    {
        var options = builder.Configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var failures = new List<string>();
        if (!options.MetricsPath.StartsWith('/'))
        {
            failures.Add($"Telemetry:MetricsPath must start with '/', not '{options.MetricsPath}'.");
        }

        if (options.OtlpEndpoint is { Length: > 0 } endpoint && !Uri.TryCreate(endpoint, UriKind.Absolute, out _))
        {
            failures.Add($"Telemetry:OtlpEndpoint must be an absolute URL, not '{endpoint}'.");
        }

        if (options.OtlpProtocol is not ("grpc" or "http/protobuf"))
        {
            failures.Add($"Telemetry:OtlpProtocol must be grpc or http/protobuf, not '{options.OtlpProtocol}'.");
        }

        if (options.OtlpExportInterval < TimeSpan.FromMilliseconds(100))
        {
            failures.Add($"Telemetry:OtlpExportInterval must be at least 100 ms, not {options.OtlpExportInterval}.");
        }

        if (failures.Count > 0)
        {
            throw new OptionsValidationException(TelemetryOptions.SectionName, typeof(TelemetryOptions), failures);
        }

        builder.Services.AddSingleton(Options.Create(options));
        var otlp = !string.IsNullOrEmpty(options.OtlpEndpoint) || !string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (!options.Prometheus && !otlp)
        {
            return builder;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceInstanceId: Environment.MachineName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter([.. meters, .. StandardMeters]);

                // Each metric stream allocates room for its cardinality limit (2,000 tag sets by default) up front; the
                // frameworks' meters have a few tag sets each, so they get less, and this project's own keep the default.
                metrics.AddView(instrument => meters.Contains(instrument.Meter.Name) ? null : new MetricStreamConfiguration { CardinalityLimit = FrameworkCardinalityLimit });
                if (options.Prometheus)
                {
                    metrics.AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0);
                }

                if (otlp)
                {
                    metrics.AddOtlpExporter((exporter, reader) =>
                    {
                        if (!string.IsNullOrEmpty(options.OtlpEndpoint))
                        {
                            exporter.Endpoint = new Uri(options.OtlpEndpoint);
                            exporter.Protocol = options.OtlpProtocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                        }

                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)options.OtlpExportInterval.TotalMilliseconds;
                    });
                }
            });
        return builder;
    }

    /// <summary>Maps the Prometheus endpoint, when it is on.</summary>
    public static WebApplication MapRealtimeMetrics(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value;
        if (options.Prometheus)
        {
            app.MapPrometheusScrapingEndpoint(options.MetricsPath);
        }

        return app;
    }
}
