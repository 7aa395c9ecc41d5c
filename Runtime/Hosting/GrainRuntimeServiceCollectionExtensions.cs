using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Realtime.Runtime.Internal;
using Realtime.Runtime.Internal.Activation;
using Realtime.Runtime.Internal.Membership;
using Realtime.Runtime.Internal.Membership.Redis;
using Realtime.Runtime.Internal.Messaging;
using Realtime.Runtime.Internal.Transport;
using Realtime.Runtime.Internal.Observers;

namespace Realtime.Runtime.Hosting;

public static class GrainRuntimeServiceCollectionExtensions
{
    /// <summary>Adds a grain runtime that hosts grains in this process, with every message routed locally.</summary>
    public static IServiceCollection AddGrainRuntime(this IServiceCollection services) => services.AddGrainRuntime(static _ => { });

    /// <summary>Adds a grain runtime that hosts grains in this process; <paramref name="configure"/> registers the grains.</summary>
    public static IServiceCollection AddGrainRuntime(this IServiceCollection services, Action<GrainRuntimeBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var builder = new GrainRuntimeBuilder(services);
        configure(builder);

        if (services.Any(d => d.ServiceType == typeof(GrainRuntimeHost)))
        {
            return services; // added before; the call above still took its grains and options
        }

        services.AddOptions<GrainRuntimeOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GrainRuntimeOptions>, GrainRuntimeOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static sp => new NodeIdentity(sp.GetRequiredService<IOptions<GrainRuntimeOptions>>().Value.NodeName, NodeRole.Silo));
        services.AddSingleton<GrainClassRegistry>();
        services.AddSingleton<CallbackRegistry>();
        services.AddSingleton<RuntimeClient>();
        services.AddSingleton<Catalog>();
        services.AddSingleton<ObserverRegistry>();
        services.AddSingleton<ActivationCollector>();
        services.TryAddSingleton<IMessageRouter, LocalMessageRouter>();
        services.AddSingleton<IGrainFactory, GrainFactory>();
        services.AddSingleton<GrainRuntimeHost>();
        services.AddSingleton<IRuntimeStatistics>(static sp => sp.GetRequiredService<GrainRuntimeHost>());
        services.AddHostedService(static sp => sp.GetRequiredService<GrainRuntimeHost>());
        return services;
    }

    /// <summary>
    /// Adds a silo that joins a cluster: it hosts the grains <paramref name="configure"/> registers, keeps the
    /// membership table (settings: the <c>Cluster</c> section), and serves other nodes on <c>Cluster:SiloPort</c>
    /// once the host's Kestrel listens there (<see cref="ListenForClusterNodes"/>).
    /// </summary>
    public static IServiceCollection AddClusterSilo(this IServiceCollection services, Action<GrainRuntimeBuilder> configure)
    {
        services.AddGrainRuntime(configure);
        return services.AddClusterCore(NodeRole.Silo);
    }

    /// <summary>
    /// Adds a cluster client: it hosts no grains, calls the silos of the cluster named in the <c>Cluster</c> section,
    /// and hosts observers grains call back. Gateways and internal services are clients.
    /// </summary>
    public static IServiceCollection AddClusterClient(this IServiceCollection services)
    {
        services.AddGrainRuntime();
        return services.AddClusterCore(NodeRole.Client);
    }

    /// <summary>Makes Kestrel accept node-to-node connections on <c>Cluster:ListenAddress</c> and <c>Cluster:SiloPort</c>.</summary>
    public static void ListenForClusterNodes(this Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel)
    {
        var options = kestrel.ApplicationServices.GetRequiredService<IOptions<ClusterOptions>>().Value;
        kestrel.Listen(System.Net.IPAddress.Parse(options.ListenAddress), options.SiloPort, listen => listen.UseConnectionHandler<SiloConnectionHandler>());
    }

    private static IServiceCollection AddClusterCore(this IServiceCollection services, NodeRole role)
    {
        if (services.Any(d => d.ServiceType == typeof(MembershipAgent)))
        {
            return services;
        }

        services.AddOptions<ClusterOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ClusterOptions>, ClusterOptionsValidator>());
        services.Replace(ServiceDescriptor.Singleton(sp => CreateIdentity(sp, role)));
        services.AddSingleton<ClusterView>();
        services.AddSingleton<IClusterMembership>(static sp => sp.GetRequiredService<ClusterView>());
        services.AddSingleton<MessageCenter>();
        services.AddSingleton<SiloConnectionHandler>();
        services.Replace(ServiceDescriptor.Singleton<IMessageRouter, ClusterMessageRouter>());
        services.TryAddSingleton<IMembershipTable>(static sp =>
        {
            var options = sp.GetRequiredService<IOptions<ClusterOptions>>().Value;
            var identity = sp.GetRequiredService<NodeIdentity>();
            if (string.IsNullOrEmpty(options.Redis) && options.Silos.Length > 0 && identity.Role == NodeRole.Client)
            {
                return new StaticMembershipTable(options.Silos, sp.GetRequiredService<MessageCenter>(), identity, options.ConnectTimeout);
            }

            if (string.IsNullOrEmpty(options.Redis))
            {
                return new InMemoryMembershipTable();
            }

            RedisEndpoint.TryParse(options.Redis, out var host, out var port);
            return new RedisMembershipTable(new RespConnection(host, port, TimeSpan.FromSeconds(3)), options.ClusterId);
        });
        services.AddSingleton<MembershipAgent>();
        services.AddHostedService(static sp => sp.GetRequiredService<MembershipAgent>());
        return services;
    }

    private static NodeIdentity CreateIdentity(IServiceProvider services, NodeRole role)
    {
        // The generation makes a restarted process a new node, so nothing meant for its predecessor reaches it.
        var generation = DateTime.UtcNow.Ticks;
        if (role == NodeRole.Silo)
        {
            var cluster = services.GetRequiredService<IOptions<ClusterOptions>>().Value;
            return new NodeIdentity(NodeAddress.Format(cluster.AdvertisedHost, cluster.SiloPort, generation), role);
        }

        return new NodeIdentity($"{services.GetRequiredService<IOptions<GrainRuntimeOptions>>().Value.NodeName}@{generation}", role);
    }
}
