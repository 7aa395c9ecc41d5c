namespace Realtime.Client.Hosting;

/// <summary>The names under which the client library reports, to add to a service's OpenTelemetry set-up.</summary>
public static class RealtimeClientTelemetry
{
    /// <summary>The meter of the client library (<c>realtime.client.*</c> instruments).</summary>
    public const string MeterName = "Realtime.Client";
}
