using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Serialization;
using Orleans.Storage;
using Realtime.Grains;
using Realtime.Grains.Hosting;
using StackExchange.Redis;

namespace Realtime.Silo.Hosting;

/// <summary>Makes a host an Orleans silo of a realtime cluster, configured by the <c>Cluster</c> section.</summary>
public static class RealtimeSiloHosting
{
    /// <summary>
    /// Adds the silo: Redis clustering (membership table), Redis grain storage for the hubs' gateway registries and for
    /// Orleans' stream subscriptions, the
    /// endpoints, Orleans' membership timings (<c>Cluster:Membership</c>, Orleans' defaults unless set) and the
    /// realtime grains. Throws at once when a setting is invalid, naming it.
    /// </summary>
    public static IHostApplicationBuilder AddRealtimeSilo(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var cluster = configuration.GetSection(RealtimeClusterOptions.SectionName).Get<RealtimeClusterOptions>() ?? new RealtimeClusterOptions();
        var validation = new RealtimeClusterOptionsValidator().Validate(null, cluster);
        if (string.IsNullOrWhiteSpace(cluster.Redis))
        {
            validation = ValidateOptionsResult.Fail([.. validation.Failures ?? [], "Cluster:Redis must name the Redis server that holds the membership table (host:port)."]);
        }

        if (validation.Failed)
        {
            throw new OptionsValidationException(RealtimeClusterOptions.SectionName, typeof(RealtimeClusterOptions), validation.Failures);
        }

        var redis = ConfigurationOptions.Parse(cluster.Redis!);
        redis.AbortOnConnectFail = false; // Redis may start after the silo, or restart under it
        var dashboard = configuration.GetSection(SiloOptions.SectionName).GetValue<bool>(nameof(SiloOptions.Dashboard));
        builder.UseOrleans(silo =>
        {
            if (dashboard)
            {
                silo.AddDashboard();
            }

            silo.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = cluster.ClusterId;
                options.ServiceId = cluster.ServiceId;
            });
            silo.Configure<EndpointOptions>(options =>
            {
                var listen = IPAddress.Parse(cluster.ListenAddress);
                options.AdvertisedIPAddress = Resolve(cluster.AdvertisedHost);
                options.SiloPort = cluster.SiloPort;
                options.GatewayPort = cluster.GatewayPort;
                options.SiloListeningEndpoint = new IPEndPoint(listen, cluster.SiloPort);
                options.GatewayListeningEndpoint = cluster.GatewayPort == 0 ? null : new IPEndPoint(listen, cluster.GatewayPort);
            });
            silo.Configure<ClusterMembershipOptions>(configuration.GetSection($"{RealtimeClusterOptions.SectionName}:Membership"));
            silo.Configure<GrainDirectoryOptions>(options =>
            {
                // After a silo dies, the distributed directory holds its grains back for this long (Orleans: 30 s),
                // in case it was only thought dead; see docs/architecture.md for the default chosen here.
                options.RangeLeaseDuration = TimeSpan.FromSeconds(5);
                configuration.GetSection($"{RealtimeClusterOptions.SectionName}:Directory").Bind(options);
            });
            silo.Configure<SiloMessagingOptions>(options => options.ResponseTimeout = cluster.ResponseTimeout);
            silo.UseRedisClustering(options => options.ConfigurationOptions = redis);
            foreach (var storage in new[] { RealtimeStorage.Name, RealtimeStorage.PubSubStore })
            {
                silo.AddRedisGrainStorage(storage, builder => builder.Configure<Serializer>((options, serializer) =>
                {
                    options.ConfigurationOptions = redis;
                    options.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
                }));
            }

            switch (cluster.GrainDirectory)
            {
                case GrainDirectoryKind.Distributed:
#pragma warning disable ORLEANSEXP003 // Orleans marks it experimental; docs/architecture.md says why it is the default here
                    silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
                    break;
                case GrainDirectoryKind.Redis:
                    silo.UseRedisGrainDirectoryAsDefault(options => options.ConfigurationOptions = redis);
                    break;
            }

            if (cluster.Kubernetes)
            {
                silo.UseKubernetesHosting();
            }

            silo.AddRealtimeGrains(configuration);
        });
        return builder;
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
}
