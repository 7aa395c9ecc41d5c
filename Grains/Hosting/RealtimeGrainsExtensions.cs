using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Realtime.Contracts;
using Realtime.Contracts.Hosting;
using Realtime.Grains.Gateways;

namespace Realtime.Grains;

public static class RealtimeGrainsExtensions
{
    /// <summary>
    /// Lets this silo host the realtime grains (hubs, namespaces, rooms, users and sessions) with what they need: this
    /// silo's gateway service (a silo with an <see cref="ILocalGateway"/> in its services is a gateway), the directory of
    /// gateways and the monitor of departed ones, the <c>Cluster</c> and <c>History</c> settings of
    /// <paramref name="configuration"/>, the serializer of the JSON values that messages carry, and the stream provider
    /// (the <c>Streams</c> section). The host adds Orleans' grain storage <see cref="RealtimeStorage.PubSubStore"/>, which
    /// keeps stream subscriptions, and may keep each silo's role in its metadata (<see cref="SiloRoles"/>).
    /// </summary>
    public static ISiloBuilder AddRealtimeGrains(this ISiloBuilder silo, IConfiguration configuration)
    {
        var services = silo.Services;
        if (RealtimeStreamsOptions.From(configuration).Provider == StreamProviderKind.Memory)
        {
            silo.AddMemoryStreams(RealtimeStreams.ProviderName);
        }

        services.AddOptions<RealtimeClusterOptions>().Bind(configuration.GetSection(RealtimeClusterOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RealtimeClusterOptions>, RealtimeClusterOptionsValidator>());
        services.AddOptions<HistoryOptions>().Bind(configuration.GetSection(HistoryOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HistoryOptions>, HistoryOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddPlacementFilter<RolePlacementStrategy, RolePlacementDirector>(ServiceLifetime.Singleton);
        silo.AddGrainService<GatewayService>();
        services.AddSingleton<GatewayDirectory>();
        services.AddSingleton<GatewayDependents>();
        services.AddSingleton<DepartedGatewayMonitor>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(static sp => sp.GetRequiredService<DepartedGatewayMonitor>());
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, GracefulHandover>();
        services.AddRealtimeSerialization();
        return silo;
    }
}
