using Microsoft.Extensions.DependencyInjection;

namespace Realtime.Runtime.Hosting;

/// <summary>A grain interface and the class that implements it.</summary>
public sealed record GrainRegistration(Type InterfaceType, Type ClassType);

/// <summary>Configures the grain runtime: which grains this node can host.</summary>
public sealed class GrainRuntimeBuilder(IServiceCollection services)
{
    public IServiceCollection Services { get; } = services;

    /// <summary>Lets this node host <typeparamref name="TGrain"/> for calls to <typeparamref name="TInterface"/>.</summary>
    public GrainRuntimeBuilder AddGrain<TInterface, TGrain>()
        where TInterface : IGrain
        where TGrain : Grain, TInterface
    {
        Services.AddSingleton(new GrainRegistration(typeof(TInterface), typeof(TGrain)));
        return this;
    }

    public GrainRuntimeBuilder Configure(Action<GrainRuntimeOptions> configure)
    {
        Services.Configure(configure);
        return this;
    }
}
