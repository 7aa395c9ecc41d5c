using System.Net;
using System.Net.Sockets;
using k8s;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Hosting.Kubernetes;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Serialization;
using Orleans.Storage;
using Realtime.Contracts.Hosting;
using Realtime.Grains;
using Realtime.Grains.Gateways;
using StackExchange.Redis;

namespace Realtime.Hosting.Silos;

/// <summary>
/// Makes a host an Orleans silo of a realtime cluster: gateways (silos that also hold client connections) and silos
/// that hold only grains both start here, configured by the <c>Cluster</c> section, so that every node of a cluster
/// runs with the same timings, directory and grains.
/// </summary>
public static class RealtimeSiloHosting
{
    /// <summary>
    /// Adds a silo of the cluster described by the <c>Cluster</c> section: Redis clustering (Orleans' membership table)
    /// and Redis storage for Orleans' stream subscriptions, the endpoints, membership timings that detect a dead node in
    /// seconds (<c>Cluster:Membership</c> overrides them), the grain directory, this silo's role in its metadata and
    /// the realtime grains. Throws at once when a setting is invalid, naming it.
    /// </summary>
    /// <param name="builder">The host.</param>
    /// <param name="role">What the silo is for: <see cref="SiloRoles.Gateway"/> or <see cref="SiloRoles.Grains"/>.</param>
    /// <param name="configure">More of the silo's configuration (the dashboard, say).</param>
    public static IHostApplicationBuilder AddRealtimeSilo(this IHostApplicationBuilder builder, string role, Action<ISiloBuilder>? configure = null)
    {
        var cluster = ReadCluster(builder.Configuration, requireRedis: true);
        var redis = ConfigurationOptions.Parse(cluster.Redis!);
        redis.AbortOnConnectFail = false; // Redis may start after the silo, or restart under it
        return AddSilo(builder, cluster, role, silo =>
        {
            silo.Configure<EndpointOptions>(options =>
            {
                var listen = IPAddress.Parse(cluster.ListenAddress);
                options.AdvertisedIPAddress = Resolve(cluster.AdvertisedHost);
                options.SiloPort = cluster.SiloPort;
                options.GatewayPort = cluster.GatewayPort;
                options.SiloListeningEndpoint = new IPEndPoint(listen, cluster.SiloPort);
                options.GatewayListeningEndpoint = cluster.GatewayPort == 0 ? null : new IPEndPoint(listen, cluster.GatewayPort);
            });
            silo.UseRedisClustering(options => options.ConfigurationOptions = redis);
            silo.AddRedisGrainStorage(RealtimeStorage.PubSubStore, storage => storage.Configure<Serializer>((options, serializer) =>
            {
                options.ConfigurationOptions = redis;
                options.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
            }));
            if (cluster.GrainDirectory == GrainDirectoryKind.Redis)
            {
                silo.UseRedisGrainDirectoryAsDefault(options => options.ConfigurationOptions = redis);
            }

            if (cluster.Kubernetes)
            {
                silo.UseKubernetesHosting();

                // In a pod, the pod's service account; outside one (a node run against a cluster from elsewhere), the
                // kubeconfig (KUBECONFIG, or ~/.kube/config), as kubectl finds it.
                silo.Services.Configure<KubernetesHostingOptions>(options => options.GetClientConfiguration = KubernetesClientConfiguration.IsInCluster()
                    ? KubernetesClientConfiguration.InClusterConfig
                    : () => KubernetesClientConfiguration.BuildDefaultConfig());
            }

            configure?.Invoke(silo);
        });
    }

    /// <summary>
    /// Adds a silo that is a cluster of its own, on loopback, with memory storage and no Redis: the embedded
    /// single-process mode. <paramref name="siloPort"/> 0 takes a free port; <paramref name="gatewayPort"/> 0 opens no
    /// port for Orleans clients (internal services).
    /// </summary>
    public static IHostApplicationBuilder AddRealtimeLocalSilo(this IHostApplicationBuilder builder, string role, int siloPort, int gatewayPort)
    {
        var cluster = ReadCluster(builder.Configuration, requireRedis: false);
        var port = siloPort == 0 ? FreeLoopbackPort() : siloPort;
        return AddSilo(builder, cluster, role, silo =>
        {
            silo.UseLocalhostClustering(port, gatewayPort, serviceId: cluster.ServiceId, clusterId: cluster.ClusterId);
            silo.AddMemoryGrainStorage(RealtimeStorage.PubSubStore);
            silo.Services.AddOptions<MemoryGrainStorageOptions>(RealtimeStorage.PubSubStore)
                .Configure<Serializer>((options, serializer) => options.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer));
        });
    }

    private static IHostApplicationBuilder AddSilo(IHostApplicationBuilder builder, RealtimeClusterOptions cluster, string role, Action<ISiloBuilder> clustering)
    {
        if (role is not (SiloRoles.Gateway or SiloRoles.Grains))
        {
            throw new ArgumentException($"A silo's role is {SiloRoles.Gateway} or {SiloRoles.Grains}, not '{role}'.", nameof(role));
        }

        QuietSiloStart.AddTo(builder);
        var configuration = builder.Configuration;
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = cluster.ClusterId;
                options.ServiceId = cluster.ServiceId;
            });
            silo.Configure<SiloMessagingOptions>(options => options.ResponseTimeout = cluster.ResponseTimeout);
            silo.Services.AddOptions<ClusterMembershipOptions>()
                .Configure(FailureDetection.Apply)
                .Bind(configuration.GetSection($"{RealtimeClusterOptions.SectionName}:Membership"));
            silo.Services.AddOptions<GrainDirectoryOptions>()
                .Configure<IOptions<ClusterMembershipOptions>>((options, membership) => options.RangeLeaseDuration = FailureDetection.RangeLease(membership.Value))
                .Bind(configuration.GetSection($"{RealtimeClusterOptions.SectionName}:Directory"));
            if (cluster.GrainDirectory == GrainDirectoryKind.Distributed)
            {
#pragma warning disable ORLEANSEXP003 // Orleans marks it experimental; docs/architecture.md says why it is the default here
                silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
            }

            if (cluster.Repartitioning && cluster.GrainPlacement != GrainPlacement.GrainSilos)
            {
                // Moves groups next to the gateways their messages come from (they migrate whole). Off where they are
                // kept on silos without connections: it would move them onto gateways.
#pragma warning disable ORLEANSEXP001 // Orleans marks it experimental; docs/architecture.md gives the measurement
                silo.AddActivationRepartitioner();
#pragma warning restore ORLEANSEXP001
                silo.Services.AddOptions<ActivationRepartitionerOptions>()
                    .Configure(options =>
                    {
                        options.MinRoundPeriod = TimeSpan.FromSeconds(10);
                        options.MaxRoundPeriod = TimeSpan.FromSeconds(20);
                        options.RecoveryPeriod = TimeSpan.FromSeconds(10);
                    })
                    .Bind(configuration.GetSection($"{RealtimeClusterOptions.SectionName}:Repartitioner"));
            }

            if (RealtimeTracing.IsOn(configuration))
            {
                // Each call carries its caller's trace context, so that a message's spans on every node are one trace.
                silo.AddActivityPropagation();
            }

            var metadata = SiloRoles.Metadata(role);
            metadata[DashboardCheck.MetadataKey] = cluster.Dashboard ? "on" : "off";
            silo.UseSiloMetadata(metadata);
            silo.Services.AddSingleton<PayloadForms>();
            if (cluster.Dashboard)
            {
                silo.AddDashboard();
            }

            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, DashboardCheck>();
            silo.AddGrainService<RefusalCheck>();
            silo.Services.AddSingleton<RefusalChecks>();
            silo.Services.AddSingleton<RefusedSilos>();
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(static sp => sp.GetRequiredService<RefusedSilos>());
            clustering(silo);
            silo.AddRealtimeGrains(configuration);
        });
        return builder;
    }

    private static RealtimeClusterOptions ReadCluster(IConfiguration configuration, bool requireRedis)
    {
        var cluster = configuration.GetSection(RealtimeClusterOptions.SectionName).Get<RealtimeClusterOptions>() ?? new RealtimeClusterOptions();
        var validation = new RealtimeClusterOptionsValidator().Validate(null, cluster);
        if (requireRedis && string.IsNullOrWhiteSpace(cluster.Redis))
        {
            validation = ValidateOptionsResult.Fail([.. validation.Failures ?? [], "Cluster:Redis must name the Redis server that holds the membership table (host:port)."]);
        }

        return validation.Failed
            ? throw new OptionsValidationException(RealtimeClusterOptions.SectionName, typeof(RealtimeClusterOptions), validation.Failures)
            : cluster;
    }

    private static IPAddress Resolve(string host)
    {
        if (IPAddress.TryParse(host, out var address))
        {
            return address;
        }

        var addresses = Dns.GetHostAddresses(host);
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
            ?? throw new InvalidOperationException($"Cluster:AdvertisedHost '{host}' has no address.");
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
