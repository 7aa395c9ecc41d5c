using System.Text.Json;
using Realtime.Contracts;

namespace Realtime.Gateway.Core;

/// <summary>
/// What this gateway knows of one of its connections, whatever its protocol: its namespace, member record, rooms and
/// data, and how to write to it. SignalR connections and socket.io sockets share the grains, rooms and indexes.
/// </summary>
internal abstract class LocalConnection(string connectionId, string @namespace, Member member, string? rejection)
{
    private readonly HashSet<string> _roomKeys = new(StringComparer.Ordinal);
    private bool _closed;
    private bool _sessionShared;

    public string ConnectionId { get; } = connectionId;

    public string Namespace { get; } = @namespace;

    public Member Member { get; } = member;

    /// <summary>The application data last set on the connection, kept here to re-assert its session.</summary>
    public JsonElement? Data
    {
        get
        {
            lock (_roomKeys)
            {
                return _data;
            }
        }

        set
        {
            lock (_roomKeys)
            {
                _data = value;
            }
        }
    }

    private JsonElement? _data;

    /// <summary>
    /// The key of the room named by the connection's own id (socket.io sockets are in it without joining); null for
    /// protocols without one.
    /// </summary>
    public string? OwnRoomKey { get; init; }

    private DeliveryOrder? _deliveryOrder;

    /// <summary>Applies what is sent to this connection alone in the order its session grain sent it; null before the first.</summary>
    public DeliveryOrder? DeliveryOrder => Volatile.Read(ref _deliveryOrder);

    /// <summary>Sets the delivery order unless another thread set one first; returns the one in use.</summary>
    public DeliveryOrder OrderOnce(DeliveryOrder order) =>
        Interlocked.CompareExchange(ref _deliveryOrder, order, null) ?? order;

    // Groups whose deliveries to this connection wait while it resumes (see Hold); null almost always.
    private Dictionary<string, List<(long Sequence, OutgoingMessage Message)>>? _holds;

    /// <summary>The sequence number of the first namespace message written to this connection; 0 before any.</summary>
    public long FirstNamespaceSequence { get; set; }

    /// <summary>From now on, what <paramref name="groupKey"/> delivers to this connection waits, until <see cref="Release"/>.</summary>
    public void Hold(string groupKey)
    {
        lock (RoomsLock)
        {
            (_holds ??= new(StringComparer.Ordinal))[groupKey] = [];
        }
    }

    /// <summary>Keeps a delivery of a held group; false when the group is not held (write it as usual).</summary>
    public bool TryHold(string groupKey, long sequence, OutgoingMessage message)
    {
        if (Volatile.Read(ref _holds) is null)
        {
            return false;
        }

        lock (RoomsLock)
        {
            if (_holds?.TryGetValue(groupKey, out var held) != true)
            {
                return false;
            }

            held!.Add((sequence, message));
            return true;
        }
    }

    // How far each group's replay went (group key -> epoch, last sequence number): a delivery of the group up to there
    // that arrives after the replay (on its way for the gateway's other members, sent before this connection joined)
    // is not written again. Null almost always.
    private Dictionary<string, (string? Epoch, long UpTo)>? _replayed;

    /// <summary>Whether the client got this message of the group in a replay already.</summary>
    public bool WasReplayed(string groupKey, string? epoch, long sequence)
    {
        if (Volatile.Read(ref _replayed) is null)
        {
            return false;
        }

        lock (RoomsLock)
        {
            return _replayed is { } replayed && replayed.TryGetValue(groupKey, out var floor) && floor.Epoch == epoch && sequence <= floor.UpTo;
        }
    }

    /// <summary>
    /// Ends a hold: writes <paramref name="replay"/> (the group's messages the client missed, in order), then what was
    /// held that comes after <paramref name="upTo"/> (of <paramref name="epoch"/>), so that the client gets every message
    /// once and in order; deliveries up to <paramref name="upTo"/> that arrive later are not written. Nothing of the
    /// group is written meanwhile.
    /// </summary>
    public int Release(string groupKey, IReadOnlyList<OutgoingMessage> replay, long upTo, string? epoch = null)
    {
        lock (RoomsLock)
        {
            if (_holds is null || !_holds.Remove(groupKey, out var held))
            {
                return 0;
            }

            if (_holds.Count == 0)
            {
                _holds = null;
            }

            if (epoch is not null && upTo > 0 && upTo != long.MaxValue)
            {
                (_replayed ??= new(StringComparer.Ordinal))[groupKey] = (epoch, upTo);
            }

            foreach (var message in replay)
            {
                Write(message);
            }

            foreach (var (sequence, message) in held)
            {
                if (sequence > upTo)
                {
                    Write(message);
                }
            }

            return replay.Count;
        }
    }

    /// <summary>
    /// How long the connection's session is kept for its client to recover after a disconnection (socket.io
    /// connection state recovery); null when it cannot be recovered. A recoverable connection's own messages go
    /// through its session grain, which keeps them for the recovery, and its joins record where each room stood.
    /// </summary>
    public virtual TimeSpan? RecoveryWindow => null;

    /// <summary>The secret its client presents to recover the session, once the session is open; null when not recoverable.</summary>
    public string? RecoveryToken { get; set; }

    /// <summary>The connection is now in a room or its namespace, which stood at <paramref name="position"/>.</summary>
    public virtual void Joined(string groupKey, GroupPosition position)
    {
    }

    /// <summary>The connection left a room.</summary>
    public virtual void Left(string groupKey)
    {
    }

    private Task _ordered = Task.CompletedTask;

    /// <summary>Runs <paramref name="send"/> once every send queued before it has completed: one at a time, in order.</summary>
    public Task<T> InOrder<T>(Func<Task<T>> send)
    {
        lock (RoomsLock)
        {
            var next = _ordered.ContinueWith(_ => send(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
            _ordered = next;
            return next;
        }
    }

    /// <summary>The protocol, as metrics tag it: <c>json</c>, <c>messagepack</c>, <c>socket.io</c>.</summary>
    public abstract string Protocol { get; }

    /// <summary>The transport the connection was made with, as metrics tag it.</summary>
    public abstract string Transport { get; }

    /// <summary>Whether the connection is counted in the gateway's open connections.</summary>
    public bool Counted { get; set; }

    /// <summary>Why the connection is refused (an invalid namespace); it is then registered nowhere.</summary>
    public string? Rejection { get; } = rejection;

    /// <summary>
    /// Held while the room set changes together with the gateway's room index (join, and the end of a leave), so
    /// that the two agree.
    /// </summary>
    public object RoomsLock => _roomKeys;

    /// <summary>Writes a message, in this connection's protocol, without waiting for it to leave.</summary>
    public abstract void Write(OutgoingMessage message);

    /// <summary>Completes once every message written so far has been handed to the transport, in order.</summary>
    public virtual Task WhenWrittenAsync() => Task.CompletedTask;

    /// <summary>Closes the connection now.</summary>
    public abstract void Abort();

    /// <summary>Closes the connection, telling the client <paramref name="reason"/> where its protocol can.</summary>
    public abstract void Close(string reason);

    /// <summary>Tells the client, as its protocol allows, that the gateway stops and that it should reconnect.</summary>
    public abstract Task CloseForShutdownAsync();

    /// <summary>Calls the client and waits for its answer (SignalR client results, socket.io acknowledgements).</summary>
    public abstract Task<JsonElement> InvokeAsync(string method, JsonElement[] args, CancellationToken cancellationToken);

    /// <summary>The room was closed by someone: tell the client, if its protocol has a way to.</summary>
    public virtual void RoomClosed(string roomName)
    {
    }

    /// <summary>
    /// Messages of a room (or, with <paramref name="room"/> null, of the namespace) numbered <paramref name="from"/>
    /// (null: unknown) to <paramref name="to"/> in <paramref name="epoch"/> never reached this connection, and the
    /// group's history no longer holds them: tell the client, if its protocol has a way to, so that it can catch up.
    /// </summary>
    public virtual void Missed(string? room, string? epoch, long? from, long to)
    {
    }

    /// <summary>Records a room; false when already in it or when the connection has closed.</summary>
    public bool TryAddRoom(string roomKey, out bool closed)
    {
        lock (_roomKeys)
        {
            closed = _closed;
            return !_closed && _roomKeys.Add(roomKey);
        }
    }

    public bool RemoveRoom(string roomKey)
    {
        lock (_roomKeys)
        {
            return _roomKeys.Remove(roomKey);
        }
    }

    public bool InRoom(string roomKey)
    {
        if (roomKey == OwnRoomKey)
        {
            return true;
        }

        lock (_roomKeys)
        {
            return _roomKeys.Contains(roomKey);
        }
    }

    public bool IsClosed
    {
        get
        {
            lock (_roomKeys)
            {
                return _closed;
            }
        }
    }

    public string[] RoomKeys()
    {
        lock (_roomKeys)
        {
            return [.. _roomKeys];
        }
    }

    /// <summary>
    /// Whether the connection's session grain holds its rooms and data, so that they must be told to it. A session grain
    /// exists only for a connection that needs one: a recoverable one (opened with it), or one that a service, another
    /// gateway or a resume token asked about (<see cref="ShareSession"/>). An idle connection costs no activation.
    /// </summary>
    public bool SessionShared
    {
        get
        {
            lock (_roomKeys)
            {
                return _sessionShared || RecoveryWindow is not null;
            }
        }
    }

    /// <summary>
    /// Hands the connection's state to its session grain, which asked for it: from now on its rooms and data are told
    /// to the grain too. Null when the connection has closed. Under the rooms' lock, so that a room joined or left
    /// meanwhile is either in the answer or told to the grain afterwards.
    /// </summary>
    public (string[] Rooms, JsonElement? Data)? ShareSession()
    {
        lock (_roomKeys)
        {
            if (!_closed)
            {
                _sessionShared = true;
            }

            return State();
        }
    }

    /// <summary>The connection's rooms and data as they are now, or null when it has closed; its session grain is not told.</summary>
    public (string[] Rooms, JsonElement? Data)? State()
    {
        lock (_roomKeys)
        {
            return _closed ? null : ([.. _roomKeys], _data);
        }
    }

    /// <summary>Marks the connection closed and returns the rooms it was in.</summary>
    public string[] Close()
    {
        lock (_roomKeys)
        {
            _closed = true;
            string[] keys = [.. _roomKeys];
            _roomKeys.Clear();
            return keys;
        }
    }
}
