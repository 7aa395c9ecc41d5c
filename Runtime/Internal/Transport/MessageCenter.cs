using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Runtime.Hosting;
using Realtime.Runtime.Internal.Invocation;
using Realtime.Runtime.Internal.Messaging;
using Realtime.Runtime.Internal.Serialization;

namespace Realtime.Runtime.Internal.Transport;

/// <summary>
/// This node's connections to other nodes, by node name. Silos dial silos; clients (gateways, services) dial silos
/// and silos answer them over the connection the client opened. A silo's node name is <c>host:port@generation</c>,
/// so it says where to dial; the hello exchange checks that the peer is that very generation.
/// </summary>
internal sealed class MessageCenter : IReferenceActivator
{
    private readonly ConcurrentDictionary<string, Connection> _connections = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Connection, byte> _open = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<Connection?>>> _dialing = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, TaskCompletionSource> _pings = new();
    private readonly ConcurrentDictionary<string, byte> _dead = new(StringComparer.Ordinal);
    private readonly CallbackRegistry _callbacks;
    private readonly RuntimeClient _runtime;
    private readonly ClusterOptions _options;
    private readonly ILogger<MessageCenter> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly IServiceProvider _services;
    private ClusterMessageRouter? _router;
    private long _nextPing;

    public MessageCenter(CallbackRegistry callbacks, RuntimeClient runtime, IOptions<ClusterOptions> options, NodeIdentity identity, IServiceProvider services, ILogger<MessageCenter> logger)
    {
        _services = services;
        _callbacks = callbacks;
        _runtime = runtime;
        _options = options.Value;
        _logger = logger;
        NodeName = identity.Name;
        Role = identity.Role;
    }

    public string NodeName { get; }

    public NodeRole Role { get; }

    public bool IsConnected(string node) => _connections.ContainsKey(node);

    /// <summary>Sends a message to a node, dialling it when it is a silo with no connection yet.</summary>
    public void Send(string node, Message message)
    {
        byte[] frame;
        try
        {
            frame = MessageCodec.EncodeMessage(message);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidCastException or ArgumentException)
        {
            Fail(message, node, $"its arguments cannot be serialized: {ex.Message}");
            return;
        }

        if (message.Kind == MessageKind.Request && message.Origin == NodeName)
        {
            _callbacks.SetDestination(message.CorrelationId, node);
        }

        if (_connections.TryGetValue(node, out var connection) && !connection.IsClosing)
        {
            if (!connection.TrySend(frame))
            {
                Fail(message, node, connection.IsClosing
                    ? $"the connection to {node} closed"
                    : $"the send queue to {node} is full ({_options.SendQueueCapacity} frames; Cluster:SendQueueCapacity)");
            }

            return;
        }

        _ = DialAndSendAsync(node, frame, message);
    }

    /// <summary>Sends a probe and waits for the answer.</summary>
    public async Task<bool> PingAsync(string node, TimeSpan timeout)
    {
        var id = Interlocked.Increment(ref _nextPing);
        var pong = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pings[id] = pong;
        try
        {
            // A probe never waits out the dialling budget of ordinary sends: one attempt, within the probe's time.
            var dial = GetOrDialAsync(node);
            if (await Task.WhenAny(dial, Task.Delay(timeout)) != dial)
            {
                return false;
            }

            var connection = await dial;
            if (connection is null || !connection.TrySend(MessageCodec.EncodePing(FrameKind.Ping, id)))
            {
                return false;
            }

            return await Task.WhenAny(pong.Task, Task.Delay(timeout)) == pong.Task;
        }
        finally
        {
            _pings.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// Dials a silo by address alone and learns its node name from its hello; the connection is kept for the traffic
    /// that follows. Null when nothing answers in time.
    /// </summary>
    public async Task<string?> IdentifyAsync(string host, int port, TimeSpan timeout)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        deadline.CancelAfter(timeout);
        try
        {
            var connection = await OpenAsync(host, port, node: null, deadline.Token);
            var name = await connection.Identified.WaitAsync(deadline.Token);
            TransportLog.Connected(_logger, name);
            return name;
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or OperationCanceledException or IOException)
        {
            return null;
        }
    }

    /// <summary>Serves a connection another node opened (Kestrel's connection handler calls this).</summary>
    public async Task AcceptAsync(ConnectionContext context)
    {
        var connection = new Connection(context.Transport, isOutbound: false, _options.SendQueueCapacity, _options.MaxFrameBytes);
        connection.TrySend(MessageCodec.EncodeHello(new Hello(NodeName, Role)));
        await RunAsync(connection);
    }

    /// <summary>A node the cluster declared dead: no more dialling, its connection closes, calls waiting on it fail.</summary>
    public void MarkDead(string node)
    {
        if (!_dead.TryAdd(node, 0))
        {
            return;
        }

        if (_connections.TryRemove(node, out var connection))
        {
            connection.Close();
        }

        _callbacks.FailSentTo(node, call => new GrainCallException($"{call.Method} on {call.Target} was lost: node {node} was declared dead."));
    }

    /// <summary>Closes every connection, including superseded ones, and refuses new ones: the host can then stop.</summary>
    public void Stop()
    {
        _stopping.Cancel();
        foreach (var connection in _open.Keys)
        {
            connection.Close();
        }
    }

    object IReferenceActivator.CreateReference(GrainInterface grainInterface, GrainId id) => GrainReference.Create(_runtime, grainInterface, id);

    private async Task DialAndSendAsync(string node, byte[] frame, Message message)
    {
        var connection = await GetOrDialAsync(node);
        if (connection is null)
        {
            Fail(message, node, _dead.ContainsKey(node) ? $"node {node} is dead" : $"node {node} could not be reached within {_options.ConnectTimeout.TotalSeconds:0.#} s");
        }
        else if (!connection.TrySend(frame))
        {
            Fail(message, node, $"the send queue to {node} is full");
        }
    }

    private Task<Connection?> GetOrDialAsync(string node)
    {
        if (_connections.TryGetValue(node, out var existing) && !existing.IsClosing)
        {
            return Task.FromResult<Connection?>(existing);
        }

        if (_dead.ContainsKey(node) || !NodeAddress.TryParse(node, out _, out _) || _stopping.IsCancellationRequested)
        {
            return Task.FromResult<Connection?>(null);
        }

        // One dial per node at a time; concurrent senders share it.
        var dial = _dialing.GetOrAdd(node, n => new Lazy<Task<Connection?>>(() => DialAsync(n)));
        return dial.Value;
    }

    private async Task<Connection?> DialAsync(string node)
    {
        try
        {
            NodeAddress.TryParse(node, out var host, out var port);
            var deadline = DateTime.UtcNow + _options.ConnectTimeout;
            var backoff = TimeSpan.FromMilliseconds(50);
            while (!_stopping.IsCancellationRequested && !_dead.ContainsKey(node))
            {
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                    timeout.CancelAfter(deadline - DateTime.UtcNow);
                    var connection = await OpenAsync(host, port, node, timeout.Token);
                    TransportLog.Connected(_logger, node);
                    return connection;
                }
                catch (Exception ex) when (ex is System.Net.Sockets.SocketException or OperationCanceledException or IOException)
                {
                    if (DateTime.UtcNow + backoff >= deadline)
                    {
                        TransportLog.DialFailed(_logger, node, ex.Message);
                        return null;
                    }

                    await Task.Delay(backoff);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
                }
            }

            return null;
        }
        finally
        {
            _dialing.TryRemove(node, out _);
        }
    }

    /// <summary>
    /// Opens a connection to a silo and says hello. With <paramref name="node"/> the connection serves that node at
    /// once (its hello must confirm it); without, it serves whoever answers, once their hello arrives.
    /// </summary>
    private async Task<Connection> OpenAsync(string host, int port, string? node, CancellationToken cancellationToken)
    {
        var connection = await Connection.ConnectAsync(host, port, _options.SendQueueCapacity, _options.MaxFrameBytes, cancellationToken);
        connection.TrySend(MessageCodec.EncodeHello(new Hello(NodeName, Role)));
        if (node is not null)
        {
            connection.RemoteNode = node;
            connection.RemoteRole = NodeRole.Silo;
            Register(connection);
        }

        _ = RunAsync(connection);
        return connection;
    }

    private void Register(Connection connection)
    {
        var node = connection.RemoteNode!;
        if (_connections.TryGetValue(node, out var previous) && previous != connection)
        {
            // Both sides dialled at once, or the peer reconnected: the newest connection carries the traffic, the
            // old one still delivers what it has in flight.
            _connections[node] = connection;
        }
        else
        {
            _connections.TryAdd(node, connection);
        }
    }

    private async Task RunAsync(Connection connection)
    {
        _open.TryAdd(connection, 0);
        if (_stopping.IsCancellationRequested)
        {
            connection.Close();
        }

        await connection.RunAsync(OnFrame);
        _open.TryRemove(connection, out _);
        if (connection.RemoteNode is { } node && _connections.TryRemove(KeyValuePair.Create(node, connection)))
        {
            TransportLog.Disconnected(_logger, node, connection.CloseReason ?? "closed");
            if (!_connections.ContainsKey(node))
            {
                _callbacks.FailSentTo(node, call => new GrainCallException($"{call.Method} on {call.Target} was lost: the connection to {node} closed."));
            }
        }
    }

    private void OnFrame(Connection connection, byte[] body)
    {
        DecodedFrame frame;
        try
        {
            frame = MessageCodec.Decode(body, _callbacks.MethodOf, this);
        }
        catch (WireFormatException ex)
        {
            // Bad input from one peer closes that connection only.
            TransportLog.MalformedFrame(_logger, connection.RemoteNode ?? "(unknown)", ex.Message);
            connection.CloseReason = ex.Message;
            connection.Close();
            return;
        }

        if (connection.RemoteNode is null && frame.Kind != FrameKind.Hello)
        {
            connection.CloseReason = "the peer did not start with a hello";
            connection.Close();
            return;
        }

        switch (frame.Kind)
        {
            case FrameKind.Hello:
                var hello = frame.Hello!;
                if (connection.IsOutbound && connection.RemoteNode is not null && hello.NodeName != connection.RemoteNode)
                {
                    // A different generation answers at that address: the node we meant is gone.
                    connection.CloseReason = $"expected {connection.RemoteNode}, {hello.NodeName} answered";
                    connection.Close();
                    return;
                }

                connection.RemoteNode = hello.NodeName;
                connection.RemoteRole = hello.Role;
                Register(connection);
                connection.MarkIdentified(hello.NodeName);
                break;
            case FrameKind.Request or FrameKind.OneWay:
                // Resolved here, not injected: the router itself sends through this message center.
                _router ??= (ClusterMessageRouter)_services.GetRequiredService<IMessageRouter>();
                _router.RouteIncoming(frame.Message!);
                break;
            case FrameKind.Response:
                _runtime.ReceiveResponse(frame.Message!);
                break;
            case FrameKind.Ping:
                connection.TrySend(MessageCodec.EncodePing(FrameKind.Pong, frame.Correlation));
                break;
            case FrameKind.Pong:
                if (_pings.TryGetValue(frame.Correlation, out var pong))
                {
                    pong.TrySetResult();
                }

                break;
        }
    }

    private void Fail(Message message, string node, string reason)
    {
        if (message.Kind == MessageKind.Request)
        {
            var error = new GrainCallException($"{message.Method} on {message.Target} could not be sent: {reason}.");
            if (message.Origin == NodeName)
            {
                _callbacks.Complete(message.CorrelationId, null, error);
            }
            else if (message.Origin is { } origin && origin != node)
            {
                // A forwarded request: tell the caller it failed rather than leave it to time out.
                Send(origin, new Message { Kind = MessageKind.Response, CorrelationId = message.CorrelationId, Target = message.Target, Method = message.Method, Exception = error });
            }
        }
        else
        {
            TransportLog.OneWayDropped(_logger, message.Method?.ToString() ?? message.Kind.ToString(), node, reason);
        }
    }
}

/// <summary>Reads the dial address out of a silo's node name, <c>host:port@generation</c>.</summary>
internal static class NodeAddress
{
    public static string Format(string host, int port, long generation) => $"{host}:{port}@{generation}";

    public static bool TryParse(string node, out string host, out int port)
    {
        host = "";
        port = 0;
        var at = node.LastIndexOf('@');
        return at > 0 && RedisEndpoint.TryParse(node[..at], out host, out port);
    }
}
