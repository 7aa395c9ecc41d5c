using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Realtime.Runtime.Internal;
using Realtime.Runtime.Internal.Activation;
using Realtime.Runtime.Internal.Messaging;
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
        services.AddSingleton<GrainClassRegistry>();
        services.AddSingleton<CallbackRegistry>();
        services.AddSingleton<RuntimeClient>();
        services.AddSingleton<Catalog>();
        services.AddSingleton<ObserverRegistry>();
        services.AddSingleton<ActivationCollector>();
        services.TryAddSingleton<IMessageRouter, LocalMessageRouter>();
        services.AddSingleton<IGrainFactory, GrainFactory>();
        services.AddSingleton<GrainRuntimeHost>();
        services.AddHostedService(static sp => sp.GetRequiredService<GrainRuntimeHost>());
        return services;
    }
}
