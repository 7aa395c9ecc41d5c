using System.Globalization;

namespace Realtime.AppHost;

internal static class RealtimeNodes
{
    /// <summary>
    /// Makes a project a node of the realtime cluster: its Cluster settings (Redis, its Orleans ports on loopback), its
    /// HTTP endpoint with the readiness probe as its health check, and it starts once Redis is healthy. Aspire gives it
    /// the dashboard's OTLP endpoint and its name there, which turn on its metrics' and traces' export; metrics go
    /// every 5 s rather than every minute.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AsRealtimeNode(
        this IResourceBuilder<ProjectResource> node, IResourceBuilder<IResourceWithConnectionString> redis, int httpPort, int siloPort, int clientGatewayPort) =>
        node.WithEnvironment("Cluster__Redis", redis.Resource.ConnectionStringExpression)
            .WithEnvironment("Cluster__SiloPort", siloPort.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("Cluster__GatewayPort", clientGatewayPort.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("Cluster__ListenAddress", "127.0.0.1")
            .WithEnvironment("Cluster__AdvertisedHost", "127.0.0.1")
            .WithEnvironment("Telemetry__OtlpExportInterval", "00:00:05") // metrics in the dashboard within seconds
            .WithHttpEndpoint(port: httpPort, name: "http", isProxied: false)
            .WithHttpHealthCheck("/healthz/ready", endpointName: "http")
            .WaitFor(redis);
}
