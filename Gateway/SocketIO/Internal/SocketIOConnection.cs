using System.Text.Json;
using Realtime.Contracts;
using Realtime.Gateway.Core;
using Realtime.Gateway.Observability;

namespace Realtime.Gateway.SocketIO.Internal;

/// <summary>
/// A socket.io socket as the hub's delivery core knows it, beside SignalR connections. With connection state recovery
/// (<see cref="Recovery"/>), every event it is written carries the recovery offset as its last argument.
/// </summary>
internal sealed class SocketIOConnection(Socket socket, SocketIOClient client, Member member)
    : LocalConnection(socket.Id, socket.Namespace.Name, member, null)
{
    private readonly Lock _writing = new();

    /// <summary>What was written before the CONNECT answer went out (see <see cref="Answer"/>); null after it.</summary>
    private List<SocketIOFrame>? _held = [];

    public override string Protocol => GatewayMetrics.SocketIOProtocol;

    public override string Transport { get; } = client.TransportName;

    /// <summary>Where the socket stands in each of its streams, when its session can be recovered; null otherwise.</summary>
    public RecoveryPositions? Recovery { get; init; }

    /// <summary>How long the session is kept for a recovery after a disconnection (with <see cref="Recovery"/>).</summary>
    public TimeSpan? RecoverableFor { get; init; }

    public override TimeSpan? RecoveryWindow => RecoverableFor;

    public override void Write(OutgoingMessage message)
    {
        var frame = SocketIOFrames.Of(message, Namespace);
        if (Recovery is null && Volatile.Read(ref _held) is null)
        {
            client.Send(frame);
            return;
        }

        lock (_writing)
        {
            // The position moves and the event is queued in one step: no offset may claim a message queued after it.
            if (Recovery is { } recovery)
            {
                if (message.Position is { } position)
                {
                    recovery.Advance(position);
                }

                frame = SocketIOEncoding.WithOffset(frame, recovery.Offset());
            }

            if (_held is { } held)
            {
                held.Add(frame);
                return;
            }

            client.Send(frame);
        }
    }

    /// <summary>
    /// Sends the CONNECT answer, then what the socket was written while it was joining the cluster (its namespace's
    /// broadcasts reach it from the start): a client drops events for a namespace it has not been told it is in.
    /// </summary>
    public void Answer(SocketIOFrame answer)
    {
        lock (_writing)
        {
            client.Send(answer);
            foreach (var frame in _held ?? [])
            {
                client.Send(frame);
            }

            Volatile.Write(ref _held, null);
        }
    }

    public override void Joined(string groupKey, GroupPosition position)
    {
        if (Recovery is { } recovery)
        {
            lock (_writing)
            {
                recovery.Joined(groupKey, position);
            }
        }
    }

    public override void Left(string groupKey)
    {
        if (Recovery is { } recovery)
        {
            lock (_writing)
            {
                recovery.Left(groupKey);
            }
        }
    }

    /// <summary>Runs <paramref name="change"/> on the positions under the write lock.</summary>
    public void WithPositions(Action<RecoveryPositions> change)
    {
        if (Recovery is { } recovery)
        {
            lock (_writing)
            {
                change(recovery);
            }
        }
    }

    /// <summary>
    /// socket.io has no event of its own for a gap: the socket is sent <see cref="MissedEvent"/> with
    /// <c>{ room, epoch, from, to }</c>, as SignalR connections are sent <c>missed</c>, and goes on. A client without a
    /// handler for it ignores it, as socket.io clients do with any event they do not listen to.
    /// </summary>
    public override void Missed(string? room, string? epoch, long? from, long to) =>
        Notify(SocketIOEncoding.EventFrame(SocketIOEncoding.SerializeEvent(MissedEvent, [new MissedRun(room, epoch, from, to)]), Namespace));

    /// <summary>The event a socket is told of messages it missed on, named so as not to meet an application's own.</summary>
    public const string MissedEvent = "realtime:missed";

    private sealed record MissedRun(string? Room, string? Epoch, long? From, long To);

    /// <summary>Sends the socket a notice of the gateway's own, in order with its events, without a recovery offset.</summary>
    private void Notify(SocketIOFrame frame)
    {
        lock (_writing)
        {
            if (_held is { } held)
            {
                held.Add(frame);
                return;
            }

            client.Send(frame);
        }
    }

    /// <summary>Disconnects the socket from its namespace, as a server-side disconnect.</summary>
    public override void Abort() => _ = socket.DisconnectAsync();

    public override void Close(string reason) => client.Close(reason);

    public override Task CloseForShutdownAsync()
    {
        client.Close("server shutting down");
        return Task.CompletedTask;
    }

    public override async Task<JsonElement> InvokeAsync(string method, JsonElement[] args, CancellationToken cancellationToken) =>
        (await socket.EmitWithAckAsync(method, [.. args.Cast<object?>()], Timeout.InfiniteTimeSpan, cancellationToken)).ToJson();
}
