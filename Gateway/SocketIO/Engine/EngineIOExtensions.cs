using System.Collections.Concurrent;

namespace Realtime.Gateway.SocketIO.Engine;

public static class EngineIOExtensions
{
    /// <summary>
    /// Maps a plain Engine.IO endpoint at <paramref name="path"/> (for Engine.IO clients such as npm's
    /// <c>engine.io-client</c>, without socket.io above it): <paramref name="onConnection"/> runs for each new client,
    /// before any of its messages. Every gateway of a cluster must map it at the same path, since any of them may get
    /// a client's requests. The gateway's connection limit and allowed origins apply to it.
    /// </summary>
    public static IEndpointConventionBuilder MapEngineIO(
        this IEndpointRouteBuilder endpoints, string path, Action<EngineIOSocket> onConnection, Action<EngineIOOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(onConnection);
        if (!path.StartsWith('/') || path.Length < 2)
        {
            throw new ArgumentException($"An Engine.IO path starts with '/' and names something: '{path}' does not.", nameof(path));
        }

        var options = new EngineIOOptions();
        configure?.Invoke(options);
        var failures = options.Failures($"Engine.IO endpoint {path}: ").ToList();
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(configure));
        }

        var services = endpoints.ServiceProvider;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Realtime.Gateway.EngineIO");
        var server = ActivatorUtilities.CreateInstance<EngineIOServer>(services, options);
        server.HandlerFactory = (session, context) =>
        {
            var socket = new EngineIOSocket(session, context, logger);
            onConnection(socket);
            return socket;
        };
        services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(server.CloseAll);
        return endpoints.MapEngineIOServer(path, server);
    }

    /// <summary>Maps an Engine.IO server at a path, with or without the trailing slash clients add.</summary>
    internal static IEndpointConventionBuilder MapEngineIOServer(this IEndpointRouteBuilder endpoints, string path, EngineIOServer server)
    {
        var trimmed = path.TrimEnd('/');
        endpoints.ServiceProvider.GetRequiredService<EngineIOEndpoints>().Add(trimmed, server);
        var pipeline = BurstWrites.Use(endpoints.CreateApplicationBuilder()).UseWebSockets();
        pipeline.Run(server.HandleAsync);
        return endpoints.Map(trimmed, pipeline.Build());
    }
}

/// <summary>The Engine.IO servers a gateway maps (socket.io's, and any plain one), by path: what its connection limit counts.</summary>
internal sealed class EngineIOEndpoints
{
    private readonly ConcurrentDictionary<string, EngineIOServer> _servers = new(StringComparer.Ordinal);

    public void Add(string path, EngineIOServer server)
    {
        if (!_servers.TryAdd(path, server))
        {
            throw new InvalidOperationException($"An Engine.IO endpoint is mapped at {path} already.");
        }
    }

    /// <summary>Whether a request is for one of the endpoints (the socket.io client script under socket.io's path aside).</summary>
    public bool Serves(PathString requestPath)
    {
        foreach (var (path, _) in _servers)
        {
            if (requestPath.StartsWithSegments(path))
            {
                return true;
            }
        }

        return false;
    }

    public int SessionCount
    {
        get
        {
            var count = 0;
            foreach (var (_, server) in _servers)
            {
                count += server.SessionCount;
            }

            return count;
        }
    }
}
