using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Realtime.Client.Emitting;
using Realtime.Client.Operations;
using Realtime.Client.Streams;
using Realtime.Contracts;
using Realtime.Contracts.Hosting;
using Realtime.Wire;
using StackExchange.Redis;

namespace Realtime.Client.Hosting;

/// <summary>Makes a process a client of the realtime cluster: the Orleans client, the emitter and the cluster-wide operations.</summary>
public static class RealtimeClientServiceCollectionExtensions
{
    /// <summary>
    /// Makes this process an Orleans client of a realtime cluster, configured by the <c>Cluster</c> and <c>Client</c>
    /// sections of <paramref name="configuration"/>: it finds the silos through the membership table in Redis (or
    /// <c>Cluster:Silos</c>), reconnects on its own, and offers Orleans' <see cref="IClusterClient"/> and
    /// <see cref="IGrainFactory"/>, <see cref="IRealtimeEmitter"/>, <see cref="IRealtimeCluster"/> and
    /// <see cref="IKeptSubscriptions"/>.
    /// </summary>
    public static IServiceCollection AddRealtimeClusterClient(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RealtimeClientOptions>().Bind(configuration.GetSection(RealtimeClientOptions.SectionName));
        return services.AddRealtimeClusterClient(
            cluster => configuration.GetSection(RealtimeClusterOptions.SectionName).Bind(cluster), RealtimeStreamsOptions.From(configuration), RealtimeTracing.IsOn(configuration));
    }

    /// <summary>
    /// The same, configured in code; every overload ends here. <paramref name="streams"/> says which stream provider
    /// to register (memory streams when null); with <paramref name="traces"/>, each call carries the caller's trace
    /// context (Orleans' activity propagation), so that a service's emit and its deliveries are one trace. Throws at
    /// once when a setting is invalid.
    /// </summary>
    public static IServiceCollection AddRealtimeClusterClient(
        this IServiceCollection services, Action<RealtimeClusterOptions> configure, RealtimeStreamsOptions? streams = null, bool traces = false)
    {
        streams ??= new RealtimeStreamsOptions();
        var cluster = new RealtimeClusterOptions();
        configure(cluster);
        var validation = new RealtimeClusterOptionsValidator().Validate(null, cluster);
        if (validation.Failed)
        {
            throw new OptionsValidationException(RealtimeClusterOptions.SectionName, typeof(RealtimeClusterOptions), validation.Failures);
        }

        if (string.IsNullOrWhiteSpace(cluster.Redis) && cluster.Silos.Length == 0)
        {
            throw new OptionsValidationException(RealtimeClusterOptions.SectionName, typeof(RealtimeClusterOptions),
                ["Set Cluster:Redis (the membership table) or Cluster:Silos (silo gateway endpoints) to find the cluster."]);
        }

        services.Configure(configure);
        services.AddOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = cluster.ClusterId;
                options.ServiceId = cluster.ServiceId;
            });
            if (!string.IsNullOrWhiteSpace(cluster.Redis))
            {
                var redis = ConfigurationOptions.Parse(cluster.Redis);
                redis.AbortOnConnectFail = false;
                client.UseRedisClustering(options => options.ConfigurationOptions = redis);
            }
            else
            {
                client.UseStaticClustering(cluster.SiloEndpoints());
            }

            client.Configure<ClientMessagingOptions>(options => options.ResponseTimeout = cluster.ResponseTimeout);
            client.Configure<GatewayOptions>(options => options.GatewayListRefreshPeriod = cluster.SiloListRefreshPeriod);
            client.Services.AddRealtimeSerialization();
            if (traces)
            {
                client.AddActivityPropagation();
            }

            if (streams.Provider == StreamProviderKind.Memory)
            {
                client.AddMemoryStreams(RealtimeStreams.ProviderName);
            }

            client.Services.AddSingleton<IClusterConnectionStatusObserver, SubscriptionCheckTrigger>();
            client.Services.AddSingleton<IClientConnectionRetryFilter>(sp => new ConnectRetryFilter(
                cluster.ConnectTimeout, TimeProvider.System, sp.GetRequiredService<ILogger<ConnectRetryFilter>>()));
        });
        return services.AddRealtimeOperations();
    }

    /// <summary>The emitter and the operations over whatever Orleans runtime this process has (a gateway's embedded silo included).</summary>
    public static IServiceCollection AddRealtimeOperations(this IServiceCollection services)
    {
        services.AddOptions<RealtimeClientOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RealtimeClientOptions>, RealtimeClientOptionsValidator>());
        services.TryAddSingleton(static sp => new PayloadSerializer(
            [new JsonHubProtocol(Options.Create(new JsonHubProtocolOptions()))],
            sp.GetRequiredService<IOptions<RealtimeClientOptions>>().Value.MaxMessageBytes));
        services.TryAddSingleton(static sp => new NodeName($"{sp.GetRequiredService<IOptions<RealtimeClientOptions>>().Value.ServiceName}@{Guid.NewGuid():N}"));
        services.TryAddSingleton<IRealtimeEmitter, RealtimeEmitter>();
        services.TryAddSingleton<IRealtimeCluster, RealtimeCluster>();
        services.AddMetrics();
        services.TryAddSingleton<KeptSubscriptions>();
        services.TryAddSingleton<IKeptSubscriptions>(static sp => sp.GetRequiredService<KeptSubscriptions>());
        return services;
    }
}

/// <summary>
/// This process among the nodes, as server-to-server events name their sender (<c>From</c>): a service is
/// <c>{ServiceName}@{a new id}</c>; a host that is itself a node of the cluster (a gateway) registers its own id instead.
/// </summary>
public sealed record NodeName(string Value);
