using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Realtime.Client.Emitting;
using Realtime.Client.Operations;
using Realtime.Runtime.Hosting;

namespace Realtime.Client.Hosting;

public static class RealtimeClientServiceCollectionExtensions
{
    /// <summary>
    /// Makes this process a client of a cluster, configured by the <c>Cluster</c>, <c>Runtime</c> and <c>Client</c>
    /// sections of <paramref name="configuration"/>: it finds the silos through the membership table, reconnects on its
    /// own, and offers <see cref="Runtime.IGrainFactory"/>, <see cref="IRealtimeEmitter"/> and <see cref="IRealtimeCluster"/>.
    /// </summary>
    public static IServiceCollection AddRealtimeClusterClient(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ClusterOptions>().Bind(configuration.GetSection(ClusterOptions.SectionName));
        services.AddOptions<GrainRuntimeOptions>().Bind(configuration.GetSection(GrainRuntimeOptions.SectionName));
        services.AddOptions<RealtimeClientOptions>().Bind(configuration.GetSection(RealtimeClientOptions.SectionName));
        return services.AddRealtimeClusterClient(static _ => { });
    }

    /// <summary>The same, configured in code; every overload ends here.</summary>
    public static IServiceCollection AddRealtimeClusterClient(this IServiceCollection services, Action<ClusterOptions> configure)
    {
        services.Configure(configure);
        services.AddClusterClient();
        return services.AddRealtimeOperations();
    }

    /// <summary>The emitter and the operations over whatever grain runtime this process has (a gateway's embedded silo included).</summary>
    internal static IServiceCollection AddRealtimeOperations(this IServiceCollection services)
    {
        services.AddOptions<RealtimeClientOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RealtimeClientOptions>, RealtimeClientOptionsValidator>());
        services.TryAddSingleton(static sp => new PayloadSerializer(
            [new JsonHubProtocol(Options.Create(new JsonHubProtocolOptions()))],
            sp.GetRequiredService<IOptions<RealtimeClientOptions>>().Value.MaxMessageBytes));
        services.TryAddSingleton<IRealtimeEmitter, RealtimeEmitter>();
        services.TryAddSingleton<IRealtimeCluster, RealtimeCluster>();
        return services;
    }
}
