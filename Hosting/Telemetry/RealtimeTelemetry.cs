using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Realtime.Hosting;

/// <summary>Settings of metrics and traces on gateways and silos (configuration section <c>Telemetry</c>).</summary>
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

    /// <summary>
    /// Record traces: Orleans carries each call's trace context between nodes, and a message's hub invocation or
    /// socket.io event, its grain calls and each gateway's delivery are spans of one trace, exported over OTLP with
    /// the metrics. Null (the default): on when an OTLP endpoint is configured.
    /// </summary>
    public bool? Tracing { get; set; }

    /// <summary>The share of traces recorded where no caller decided (0 to 1); a trace a caller sampled is always recorded.</summary>
    public double TraceSampleRatio { get; set; } = 1.0;
}

/// <summary>
/// OpenTelemetry metrics for a gateway or a silo: the project's meters, Orleans' own, ASP.NET Core's (HTTP, Kestrel,
/// SignalR's connections) and the .NET runtime's, exported in Prometheus' text format and, when an endpoint is
/// configured, over OTLP; and traces (<see cref="TelemetryOptions.Tracing"/>), over OTLP.
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

        if (options.TraceSampleRatio is < 0 or > 1 || double.IsNaN(options.TraceSampleRatio))
        {
            failures.Add($"Telemetry:TraceSampleRatio must be from 0 to 1, not {options.TraceSampleRatio}.");
        }

        if (failures.Count > 0)
        {
            throw new OptionsValidationException(TelemetryOptions.SectionName, typeof(TelemetryOptions), failures);
        }

        builder.Services.AddSingleton(Options.Create(options));
        var otlp = Contracts.Hosting.RealtimeTracing.IsOtlpConfigured(builder.Configuration);
        var tracing = Contracts.Hosting.RealtimeTracing.IsOn(builder.Configuration);
        if (!options.Prometheus && !otlp && !tracing)
        {
            return builder;
        }

        // Telemetry:OtlpExportInterval, unless only the standard OTEL_METRIC_EXPORT_INTERVAL is set, which the exporter
        // then reads itself.
        int? exportInterval = builder.Configuration[$"{TelemetryOptions.SectionName}:{nameof(TelemetryOptions.OtlpExportInterval)}"] is null
            && builder.Configuration["OTEL_METRIC_EXPORT_INTERVAL"] is not null
            ? null
            : (int)options.OtlpExportInterval.TotalMilliseconds;
        var telemetry = builder.Services.AddOpenTelemetry()
            // One instance per process, not per machine: several nodes often share one (a laptop, an Aspire app
            // host). OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, where set (Aspire sets both), name it instead.
            .ConfigureResource(resource => resource
                .AddService(serviceName, serviceInstanceId: $"{Environment.MachineName}/{Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)}")
                .AddEnvironmentVariableDetector());
        if (tracing)
        {
            telemetry.WithTracing(traces =>
            {
                traces.AddSource(TraceSources);
                traces.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.TraceSampleRatio)));
                if (otlp)
                {
                    traces.AddOtlpExporter(exporter => ConfigureExporter(exporter, options, "traces"));
                }
            });
        }

        if (!options.Prometheus && !otlp)
        {
            return builder;
        }

        telemetry.WithMetrics(metrics =>
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
                        ConfigureExporter(exporter, options, "metrics");
                        if (exportInterval is not null)
                        {
                            reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = exportInterval;
                        }
                    });
                }
            });
        return builder;
    }

    /// <summary>
    /// The activity sources traced: this project's gateways, Orleans' calls between nodes and into grains, ASP.NET
    /// Core's requests and SignalR's hub invocations.
    /// </summary>
    public static readonly string[] TraceSources =
    [
        "Realtime.Gateway", "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", "Microsoft.AspNetCore",
        "Microsoft.AspNetCore.SignalR.Server",
    ];

    /// <summary>
    /// Points an OTLP exporter at <see cref="TelemetryOptions.OtlpEndpoint"/>, when set (with http/protobuf, the URL
    /// of the signal's path: <c>/v1/metrics</c> given, <c>/v1/traces</c> for traces); otherwise the standard
    /// <c>OTEL_EXPORTER_OTLP_*</c> variables apply.
    /// </summary>
    private static void ConfigureExporter(OtlpExporterOptions exporter, TelemetryOptions options, string signal)
    {
        if (string.IsNullOrEmpty(options.OtlpEndpoint))
        {
            return;
        }

        var endpoint = new Uri(options.OtlpEndpoint);
        if (options.OtlpProtocol != "grpc" && signal == "traces" && endpoint.AbsolutePath.EndsWith("/v1/metrics", StringComparison.Ordinal))
        {
            endpoint = new Uri(endpoint, endpoint.AbsolutePath[..^"metrics".Length] + "traces");
        }

        exporter.Endpoint = endpoint;
        exporter.Protocol = options.OtlpProtocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
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
