using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Realtime.Grains.Hosting;
using Realtime.Grains.Hubs;
using Realtime.Grains.Internal;

namespace Realtime.Grains;

public static class RealtimeGrainsExtensions
{
    /// <summary>
    /// Lets this silo host the realtime grains (hubs, namespaces, rooms, users and sessions) with what they need: the
    /// gateway lease settings (the <c>Cluster:GatewayLease</c> section of <paramref name="configuration"/>), the
    /// per-silo monitor of departed gateways, the serializer of the JSON values that messages carry, and the stream
    /// provider (the <c>Streams</c> section). The host adds the grain storage named <see cref="RealtimeStorage.Name"/>,
    /// and Orleans' <c>PubSubStore</c>, which keeps stream subscriptions.
    /// </summary>
    public static ISiloBuilder AddRealtimeGrains(this ISiloBuilder silo, IConfiguration configuration)
    {
        var services = silo.Services;
        if (RealtimeStreamsOptions.From(configuration).Provider == StreamProviderKind.Memory)
        {
            silo.AddMemoryStreams(RealtimeStreams.ProviderName);
        }

        services.AddGatewayLeaseOptions(configuration);
        services.AddOptions<HistoryOptions>().Bind(configuration.GetSection(HistoryOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HistoryOptions>, HistoryOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<GatewayDependents>();
        services.AddSingleton<DepartedGatewayMonitor>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(static sp => sp.GetRequiredService<DepartedGatewayMonitor>());
        services.AddRealtimeSerialization();
        return silo;
    }

    /// <summary>Binds and validates the gateway lease settings (<c>Cluster:GatewayLease</c>): silos and gateways both read them.</summary>
    public static IServiceCollection AddGatewayLeaseOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayLeaseOptions>().Bind(configuration.GetSection(GatewayLeaseOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayLeaseOptions>, GatewayLeaseOptionsValidator>());
        return services;
    }
}
