using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Realtime.Client.Operations;
using Realtime.Gateway.Authentication;
using Realtime.Gateway.Authorization;
using Realtime.Gateway.Cluster;
using Realtime.Gateway.Core;
using Realtime.Gateway.Http;
using Realtime.Gateway.SignalR;
using Realtime.Gateway.SocketIO.Engine;
using Realtime.Gateway.SocketIO.Internal;

namespace Realtime.Gateway.SocketIO;

public static class SocketIOExtensions
{
    /// <summary>Sets up the socket.io server (namespaces, middleware, handlers) when it is created.</summary>
    public static IServiceCollection ConfigureSocketIO(this IServiceCollection services, Action<SocketIOServer> configure)
    {
        services.AddSingleton(new SocketIOConfiguration(configure));
        return services;
    }

    /// <summary>The socket.io services; <c>AddRealtimeGateway</c> calls it. Settings from the <c>SocketIO</c> section.</summary>
    internal static IServiceCollection AddRealtimeSocketIO(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SocketIOOptions>().Bind(configuration.GetSection(SocketIOOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SocketIOOptions>, SocketIOOptionsValidator>());
        services.AddSingleton<SessionForwarder>();
        services.AddSingleton<EngineIOEndpoints>();
        services.AddSingleton(static sp => ActivatorUtilities.CreateInstance<EngineIOServer>(sp, (EngineIOOptions)sp.GetRequiredService<IOptions<SocketIOOptions>>().Value));
        services.AddSingleton(static sp =>
        {
            var server = new SocketIOServer(
                sp.GetRequiredService<IOptions<SocketIOOptions>>(),
                sp.GetRequiredService<IOptions<GatewayOptions>>(),
                sp.GetRequiredService<IOptions<JwtOptions>>(),
                sp.GetRequiredService<LocalHub<RealtimeHub>>(),
                sp.GetRequiredService<IRealtimeCluster>(),
                sp.GetRequiredService<IServerEvents>(),
                sp.GetRequiredService<Authorization.RealtimePermissions>(),
                sp.GetRequiredService<ClientRateLimits>(),
                sp.GetRequiredService<ILoggerFactory>());
            foreach (var configuration in sp.GetServices<SocketIOConfiguration>())
            {
                configuration.Configure(server);
            }

            var engine = sp.GetRequiredService<EngineIOServer>();
            engine.HandlerFactory = (session, context) => new SocketIOClient(server, session, context);
            sp.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(engine.CloseAll);
            return server;
        });
        return services;
    }

    /// <summary>
    /// Maps the Engine.IO endpoint at <see cref="SocketIOOptions.Path"/> and, unless turned off, the socket.io browser
    /// client at <c>{Path}/socket.io.js</c>, as a Node socket.io server does.
    /// </summary>
    public static IEndpointRouteBuilder MapSocketIO(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<SocketIOOptions>>().Value;
        if (!options.Enabled)
        {
            return endpoints;
        }

        // Creating the server wires it to the Engine.IO endpoint.
        endpoints.ServiceProvider.GetRequiredService<SocketIOServer>();
        var engine = endpoints.ServiceProvider.GetRequiredService<EngineIOServer>();
        var path = options.Path.TrimEnd('/');
        endpoints.MapEngineIOServer(path, engine);
        if (options.ServeClient)
        {
            var serve = BrowserAssets.Script(BrowserAssets.SocketIOClient);
            endpoints.MapGet(path + "/socket.io.js", serve);
            endpoints.MapGet(path + "/socket.io.min.js", serve);
        }

        return endpoints;
    }

    internal sealed record SocketIOConfiguration(Action<SocketIOServer> Configure);
}
