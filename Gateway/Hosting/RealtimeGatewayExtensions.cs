using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Realtime.Client.Hosting;
using Realtime.Gateway.Authentication;
using Realtime.Gateway.Hubs;
using Realtime.Gateway.Internal;
using Realtime.Gateway.LifetimeManager;
using Realtime.Gateway.SocketIO;
using Realtime.Grains;
using Realtime.Runtime.Hosting;

namespace Realtime.Gateway.Hosting;

public static class RealtimeGatewayExtensions
{
    /// <summary>
    /// Adds SignalR with the grain-backed lifetime manager, so every hub's groups, users and broadcasts go through
    /// grains. Settings come from the <c>Gateway</c> section of <paramref name="configuration"/>.
    /// </summary>
    public static IServiceCollection AddRealtimeGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayOptions>().Bind(configuration.GetSection(GatewayOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>());
        services.AddSingleton<IConfigureOptions<HubOptions>, ConfigureHubOptions>();
        services.AddOptions<JwtOptions>().Bind(configuration.GetSection(JwtOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JwtOptions>, JwtOptionsValidator>());
        services.AddAuthentication(JwtAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, JwtAuthenticationHandler>(JwtAuthenticationHandler.SchemeName, null);
        services.AddSignalR(hubs => hubs.AddFilter<RealtimeHubFilter>());

        // The JSON protocol, wrapped so that a malformed frame gets an error and the connection goes on.
        services.RemoveAll<Microsoft.AspNetCore.SignalR.Protocol.IHubProtocol>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.AspNetCore.SignalR.Protocol.IHubProtocol, ResilientJsonHubProtocol>());
        services.AddSingleton<GatewayReceiver>();
        services.AddSingleton<ServerEvents>();
        services.AddSingleton<IServerEvents>(static sp => sp.GetRequiredService<ServerEvents>());
        services.AddHostedService<GatewayRegistration>();
        services.AddSingleton(typeof(HubLifetimeManager<>), typeof(RealtimeHubLifetimeManager<>));
        services.AddRealtimeSocketIO(configuration);

        // The emitter and the cluster operations, for code hosted in the gateway; they share the gateway's limit.
        services.AddRealtimeOperations();
        services.AddOptions<RealtimeClientOptions>().Configure<IOptions<GatewayOptions>>((client, gateway) => client.MaxMessageBytes = gateway.Value.MaxMessageBytes);
        return services;
    }

    /// <summary>
    /// Hosts the grains in this process (the embedded single-node mode). Settings come from the <c>Runtime</c>
    /// section of <paramref name="configuration"/>.
    /// </summary>
    public static IServiceCollection AddRealtimeEmbeddedSilo(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GrainRuntimeOptions>().Bind(configuration.GetSection(GrainRuntimeOptions.SectionName));
        return services.AddGrainRuntime(runtime => runtime.AddRealtimeGrains());
    }

    /// <summary>Maps <see cref="RealtimeHub"/> at <see cref="GatewayOptions.HubPath"/> and, for namespaces, one segment below it.</summary>
    public static IEndpointRouteBuilder MapRealtimeHub(this IEndpointRouteBuilder endpoints)
    {
        var path = endpoints.ServiceProvider.GetRequiredService<IOptions<GatewayOptions>>().Value.HubPath;
        endpoints.MapHub<RealtimeHub>(path);
        endpoints.MapHub<RealtimeHub>($"{path}/{{{RealtimeHubLifetimeManager<RealtimeHub>.NamespaceRouteValue}}}");
        return endpoints;
    }

    private sealed class ConfigureHubOptions(IOptions<GatewayOptions> gateway) : IConfigureOptions<HubOptions>
    {
        public void Configure(HubOptions options) => options.MaximumReceiveMessageSize = gateway.Value.MaxFrameBytes;
    }
}
