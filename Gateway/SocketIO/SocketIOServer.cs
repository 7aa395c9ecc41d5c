using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Realtime.Client.Operations;
using Realtime.Contracts;
using Realtime.Gateway.Authentication;
using Realtime.Gateway.Authorization;
using Realtime.Gateway.Cluster;
using Realtime.Gateway.Core;
using Realtime.Gateway.SignalR;

namespace Realtime.Gateway.SocketIO;

/// <summary>
/// The socket.io server of a gateway, in socket.io's shape: namespaces (by name, or created on demand for names
/// that match a pattern), their middleware and handlers, and broadcasts. Its sockets belong to the
/// <see cref="RealtimeHub"/>'s grains, beside SignalR connections, so everything works across gateways. Configure it
/// with <c>services.ConfigureSocketIO(io => ...)</c>.
/// </summary>
public sealed class SocketIOServer
{
    internal const int SocketIdLength = 20;

    private readonly ConcurrentDictionary<string, SocketIONamespace> _namespaces = new(StringComparer.Ordinal);
    private readonly List<(Regex Pattern, Action<SocketIONamespace> Configure)> _dynamic = [];
    private readonly ConcurrentDictionary<string, Socket> _sockets = new(StringComparer.Ordinal);
    private readonly ILoggerFactory _loggers;

    internal SocketIOServer(
        IOptions<SocketIOOptions> options,
        IOptions<GatewayOptions> gateway,
        IOptions<JwtOptions> jwt,
        LocalHub<RealtimeHub> hub,
        IRealtimeCluster cluster,
        IServerEvents serverEvents,
        Authorization.RealtimePermissions permissions,
        ClientRateLimits limits,
        ILoggerFactory loggers)
    {
        Limits = limits;
        Permissions = permissions;
        Options = options.Value;
        Jwt = jwt.Value;
        MaxMessageBytes = gateway.Value.MaxMessageBytes;
        Hub = hub;
        Cluster = cluster;
        ServerEvents = serverEvents;
        _loggers = loggers;
        _namespaces["/"] = new SocketIONamespace(this, "/");
    }

    /// <summary>The default namespace, <c>/</c>.</summary>
    public SocketIONamespace Sockets => _namespaces["/"];

    public SocketIOOptions Options { get; }

    /// <summary>The clients' room and namespace permissions (<c>Permissions</c>), for handlers of client events.</summary>
    public Authorization.RealtimePermissions Permissions { get; }

    internal JwtOptions Jwt { get; }

    internal int MaxMessageBytes { get; }

    /// <summary>The delivery core of the hub whose connections socket.io sockets are (the RealtimeHub's, shared with SignalR).</summary>
    internal LocalHub<RealtimeHub> Hub { get; }

    internal ClientRateLimits Limits { get; }

    internal IRealtimeCluster Cluster { get; }

    internal IServerEvents ServerEvents { get; }

    /// <summary>The namespace of that name (<c>/</c> or <c>/name</c>), created if need be.</summary>
    public SocketIONamespace Of(string name)
    {
        CheckNamespace(name);
        return _namespaces.GetOrAdd(name, n => new SocketIONamespace(this, n));
    }

    /// <summary>
    /// Namespaces created on demand: a client may connect to any name that <paramref name="pattern"/> matches, and
    /// <paramref name="configure"/> sets up each such namespace the first time a client asks for it on this gateway.
    /// </summary>
    public void Of(Regex pattern, Action<SocketIONamespace> configure)
    {
        lock (_dynamic)
        {
            _dynamic.Add((pattern, configure));
        }
    }

    /// <summary>The namespace a client asks for, or null when it is neither declared nor matched by a pattern.</summary>
    internal SocketIONamespace? Resolve(string name)
    {
        if (_namespaces.TryGetValue(name, out var existing))
        {
            return existing;
        }

        if (name.Length < 2 || Names.ValidateNamespace(name[1..]) is not null)
        {
            return null;
        }

        lock (_dynamic)
        {
            foreach (var (pattern, configure) in _dynamic)
            {
                if (pattern.IsMatch(name))
                {
                    var created = new SocketIONamespace(this, name);
                    if (_namespaces.TryAdd(name, created))
                    {
                        configure(created);
                        return created;
                    }

                    return _namespaces[name];
                }
            }
        }

        return null;
    }

    internal ILogger Logger(string category) => _loggers.CreateLogger(category);

    internal static string NewSocketId() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(15));

    internal void Track(Socket socket) => _sockets[socket.Id] = socket;

    /// <summary>The socket of that id on this gateway, connected or still leaving the cluster; null when there is none.</summary>
    internal Socket? LocalSocket(string socketId) => _sockets.TryGetValue(socketId, out var socket) ? socket : null;

    internal void Untrack(Socket socket) => _sockets.TryRemove(KeyValuePair.Create(socket.Id, socket));

    private static void CheckNamespace(string name)
    {
        if (name == "/")
        {
            return;
        }

        if (!name.StartsWith('/') || Names.ValidateNamespace(name[1..]) is { } error)
        {
            throw new ArgumentException($"A namespace is '/' or '/name' with a valid name: '{name}' is not.", nameof(name));
        }
    }
}
