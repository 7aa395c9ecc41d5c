using System.Net.WebSockets;
using Realtime.Gateway.Core;

namespace Realtime.Gateway.SocketIO.Engine;

/// <summary>
/// Writes a session's packets to its WebSocket. Whoever sends queues without waiting; the gateway's
/// <see cref="WriteScheduler"/>, shared with SignalR connections, writes what waits: a delivery to the ten sockets of a
/// room on this gateway wakes one thread-pool item, not ten loops of their own. Each run writes what is queued as one
/// burst (one flush through <see cref="BurstWrites"/>, up to <see cref="BurstWrites.MaxBytes"/>) and goes on while more
/// comes; a write the client is too slow to take finishes asynchronously, and the next run waits for it. Once
/// <see cref="Complete"/> is called and everything queued before is written, the WebSocket is closed politely and
/// <see cref="Done"/> completes.
/// </summary>
internal sealed class WebSocketWriter(Action<int> written, Action<string> failed) : IPendingWrites
{
    private readonly Lock _lock = new();
    private readonly Queue<OutgoingPacket> _pending = new();
    private readonly List<OutgoingPacket> _burst = [];
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebSocket? _socket;
    private BurstWrites? _bursts;
    private bool _running;
    private bool _completed;

    /// <summary>Completes when the writer has written everything queued before <see cref="Complete"/> and closed the WebSocket, or failed.</summary>
    public Task Done => _done.Task;

    /// <summary>Starts writing to <paramref name="socket"/> what was queued and what will be; <paramref name="bursts"/> is the stream under it.</summary>
    public void Start(WebSocket socket, BurstWrites? bursts)
    {
        lock (_lock)
        {
            (_socket, _bursts) = (socket, bursts);
            if (!ShouldRun())
            {
                return;
            }
        }

        WriteScheduler.Schedule(this);
    }

    /// <summary>Queues a packet; dropped when the writer has completed.</summary>
    public void Enqueue(OutgoingPacket packet)
    {
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            _pending.Enqueue(packet);
            if (!ShouldRun())
            {
                return;
            }
        }

        WriteScheduler.Schedule(this);
    }

    /// <summary>Nothing more is queued: once what waits is written, the WebSocket is closed.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            if (!ShouldRun())
            {
                return;
            }
        }

        WriteScheduler.Schedule(this);
    }

    // Under the lock: whether a run should be scheduled now (started, and none running or scheduled).
    private bool ShouldRun()
    {
        if (_socket is null || _running)
        {
            return false;
        }

        _running = true;
        return true;
    }

    void IPendingWrites.WritePending() => _ = WriteAsync();

    private async Task WriteAsync()
    {
        var socket = _socket!;
        try
        {
            while (true)
            {
                lock (_lock)
                {
                    var bytes = 0;
                    while (bytes < BurstWrites.MaxBytes && _pending.TryDequeue(out var packet))
                    {
                        _burst.Add(packet);
                        bytes += packet.Data.Length;
                    }

                    if (_burst.Count == 0 && !_completed)
                    {
                        _running = false;
                        return;
                    }
                }

                if (_burst.Count == 0)
                {
                    // The session closed: end the WebSocket politely (the client then reconnects, if it wants to).
                    await EngineSession.TryCloseAsync(socket, WebSocketCloseStatus.NormalClosure, "");
                    _done.TrySetResult();
                    return;
                }

                _bursts?.BeginBurst();
                foreach (var packet in _burst)
                {
                    await socket.SendAsync(packet.Data, packet.IsBinary ? WebSocketMessageType.Binary : WebSocketMessageType.Text, true, CancellationToken.None);
                    written(packet.Data.Length);
                }

                _burst.Clear();
                if (_bursts is { } bursts)
                {
                    await bursts.EndBurstAsync();
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            lock (_lock)
            {
                _completed = true;
                _pending.Clear();
                _burst.Clear();
            }

            failed("transport error");
            _done.TrySetResult();
        }
    }
}
