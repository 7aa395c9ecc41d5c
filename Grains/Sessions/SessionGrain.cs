using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Placement;
using Realtime.Contracts;
using Realtime.Contracts.Hosting;
using Realtime.Grains.Gateways;
using Realtime.Grains.Groups;

namespace Realtime.Grains.Sessions;

/// <summary>
/// One connection's state, reachable from any gateway or service. Reentrant because the operations it forwards to
/// the connection's gateway call back into it (joining a room records the room here).
/// </summary>
/// <remarks>
/// Like members, a session is soft state held by its gateway. A session that comes back after its silo died, and
/// is asked about before its gateway opens it again, asks the gateways whether one of them holds the connection; it
/// has lost its secret and its history, so its client can no longer resume or recover it.
/// A session is open (on one gateway), closed but kept for its client to take back (resumable or recoverable), or
/// handed to a gateway that recovers it under the same id and has not opened it yet.
/// </remarks>
[RolePlacement(avoidCaller: true)]
[Immovable(ImmovableKind.Repartitioner)] // kept off its own gateway (above), wherever its calls come from
[Reentrant]
internal sealed class SessionGrain(
    GatewayDependents dependents, GatewayDirectory gateways, IOptions<RealtimeClusterOptions> cluster, IOptions<HistoryOptions> history, TimeProvider time)
    : Grain, ISessionGrain
{
    private readonly List<string> _rooms = [];
    private readonly Dictionary<string, GroupPosition> _joined = new(StringComparer.Ordinal);
    private SessionInfo? _info;
    private IGatewayService? _gateway;
    private DeliveryChain? _chain;
    private Task? _recovery;

    // The secret a client presents to take the session back, and for how long a closed session is kept. Recoverable
    // sessions (socket.io) come back under their own id and keep the messages sent to the connection alone.
    private string? _token;
    private TimeSpan _window;
    private bool _recoverable;
    private (SessionInfo Info, RoomJoin[] Joins, DateTimeOffset Until)? _closed;
    private string? _recoveringGateway;

    // A gateway taking the session back (SignalR's Resume, socket.io's recovery): the session is its until it ends the
    // claim (or opens the session again), or until then.
    private (string GatewayId, DateTimeOffset Until)? _claim;

    /// <summary>How many calls' worth of <c>Cluster:ResponseTimeout</c> a claim is held for a gateway that does not answer.</summary>
    private const int ClaimHoldCalls = 3;

    // The connection's own messages, numbered in this activation (the epoch names it); kept when recoverable.
    private readonly string _epoch = Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant();
    private readonly MessageHistory _own = new(history.Value, time);
    private long _sequence;

    public Task Open(SessionInfo info)
    {
        SetOpen(info);
        _recovery = Task.CompletedTask;
        return Task.CompletedTask;
    }

    public Task<string> OpenRecoverable(SessionInfo info, TimeSpan window)
    {
        SetOpen(info);
        _recovery = Task.CompletedTask;
        _recoverable = true;
        _window = window;
        return Task.FromResult(_token ??= NewToken());
    }

    public async Task Close(string gatewayId, bool keepForResume)
    {
        // A session that asked its gateway for the connection closes only once it has the answer: an answer given just
        // before the connection closed would open it again after the close.
        await RecoverAsync();
        CloseFrom(gatewayId, keepForResume);
    }

    private void CloseFrom(string gatewayId, bool keepForResume)
    {
        if (_info is null && _recoveringGateway == gatewayId && !keepForResume)
        {
            // The gateway that was recovering the session gave it up.
            Forget();
            DeactivateOnIdle();
            return;
        }

        if (_info is null || _info.Member.GatewayId != gatewayId)
        {
            // Closed already, or taken over by another gateway: the close of an older connection changes nothing.
            return;
        }

        var window = _recoverable ? _window : history.Value.ResumeWindow;
        if (keepForResume && _token is not null && window > TimeSpan.Zero)
        {
            // Kept for its client to take back after a reconnect, until the window ends.
            _closed = (_info with { Rooms = _rooms.ToArray() }, Joins(), time.GetUtcNow() + window);
            SetClosed();
            _recovery = Task.CompletedTask;
            DelayDeactivation(window);
            return;
        }

        SetClosed();
        Forget();
        _recovery = Task.CompletedTask;
        DeactivateOnIdle();
    }

    public async Task<string> Resumable()
    {
        await RecoverAsync();
        if (_info is null)
        {
            throw new InvalidOperationException($"Connection {this.GetPrimaryKeyString()} is not open.");
        }

        return _token ??= NewToken();
    }

    public Task<SessionInfo?> Claim(string token, string? userId, string hub, string @namespace, string gatewayId) =>
        Task.FromResult(Take(token, userId, gatewayId, info => info.Hub == hub && info.Namespace == @namespace)?.Info);

    public Task EndClaim(string gatewayId, bool resumed)
    {
        if (_claim?.GatewayId != gatewayId)
        {
            return Task.CompletedTask;
        }

        _claim = null;
        if (resumed)
        {
            Forget();
            DeactivateOnIdle();
        }
        else if (_recoveringGateway == gatewayId)
        {
            _recoveringGateway = null; // a recovery given back: the session is closed and can be recovered again
        }

        return Task.CompletedTask;
    }

    public Task<SessionRecovery?> Recover(string token, string? userId, string gatewayId)
    {
        if (!_recoverable || Take(token, userId, gatewayId) is not { } taken)
        {
            return Task.FromResult<SessionRecovery?>(null);
        }

        // The recovering gateway opens it again under this id; until then what is sent to it waits here.
        _recoveringGateway = gatewayId;
        return Task.FromResult<SessionRecovery?>(new SessionRecovery(taken.Info, taken.Joins, _epoch));
    }

    public Task<Replay> Since(string epoch, long sequence) =>
        Task.FromResult(_recoverable ? _own.Since(epoch, sequence, _epoch, _sequence) : new Replay(false, _epoch, _sequence, []));

    /// <summary>The connection's gateway left or died: the connection is gone with it.</summary>
    public Task GatewaysDeparted(IReadOnlyList<string> gatewayIds)
    {
        if (_claim is { } claim && gatewayIds.Contains(claim.GatewayId))
        {
            // The gateway that was taking the session back is gone: its client may try again elsewhere.
            _claim = null;
            if (_recoveringGateway == claim.GatewayId)
            {
                _recoveringGateway = null;
            }
        }

        if (_info is not null && gatewayIds.Contains(_info.Member.GatewayId))
        {
            CloseFrom(_info.Member.GatewayId, keepForResume: true);
        }

        return Task.CompletedTask;
    }

    public async Task<SessionInfo?> Get()
    {
        await RecoverAsync();
        return _info is null ? null : _info with { Rooms = _rooms.ToArray() };
    }

    public async Task AddRoom(string roomKey, GroupPosition? joined)
    {
        await RecoverAsync();
        if (_info is null)
        {
            return;
        }

        if (!_rooms.Contains(roomKey))
        {
            _rooms.Add(roomKey);
        }

        if (joined is not null)
        {
            _joined[roomKey] = joined;
        }
    }

    public async Task RemoveRoom(string roomKey)
    {
        await RecoverAsync();
        _rooms.Remove(roomKey);
        _joined.Remove(roomKey);
    }

    public async Task SetData(JsonElement? data)
    {
        await RecoverAsync();
        if (_info is not null)
        {
            _info = _info with { Data = data };
        }
    }

    public async Task<bool> Send(SerializedPayload payload)
    {
        await RecoverAsync();
        if (_info is null)
        {
            if (_recoverable && (_recoveringGateway is not null || _closed is { } closed && time.GetUtcNow() <= closed.Until))
            {
                // Its client may still recover the session: the message waits in its history.
                _own.Add(new HistoryEntry(++_sequence, payload));
                return true;
            }

            return false;
        }

        var sequence = ++_sequence;
        if (_recoverable)
        {
            _own.Add(new HistoryEntry(sequence, payload));
        }

        // Answered once the connection's gateway took it (or left the cluster, its connections with it): nothing but this
        // activation would know of it, so a success told before it arrived could die with this node. Reentrant: other
        // sends go on meanwhile, and the chain's positions keep their order.
        _chain ??= new DeliveryChain(gateways, _info.Member.GatewayId);
        await _chain.SendConfirmed(
            new Delivery(_info.Hub, DeliveryTarget.Connection, _info.Member.ConnectionId, sequence, payload, null, Epoch: _epoch),
            cluster.Value.ResponseTimeout);
        return true;
    }

    public async Task<bool> JoinRoom(string roomKey)
    {
        await RecoverAsync();
        return _info is not null && await _gateway!.JoinRoom(_info.Hub, _info.Member.ConnectionId, roomKey);
    }

    public async Task<bool> LeaveRoom(string roomKey)
    {
        await RecoverAsync();
        return _info is not null && await _gateway!.LeaveRoom(_info.Hub, _info.Member.ConnectionId, roomKey);
    }

    public async Task<JsonElement> InvokeClient(string method, JsonElement[] args, TimeSpan timeout)
    {
        await RecoverAsync();
        return _info is null
            ? throw new InvalidOperationException($"Connection {this.GetPrimaryKeyString()} is not open.")
            : await _gateway!.InvokeClient(_info.Hub, _info.Member.ConnectionId, method, args, timeout);
    }

    public async Task<bool> Disconnect()
    {
        await RecoverAsync();
        return _info is not null && await _gateway!.Disconnect(_info.Hub, _info.Member.ConnectionId);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        SetClosed();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Takes the session with its secret: while still open (its gateway died and is not declared gone yet, or the
    /// client came back while the old connection lingers), the old connection is closed if it can be; when closed,
    /// within its window. Null when the secret or the user is wrong, or the window passed.
    /// </summary>
    private (SessionInfo Info, RoomJoin[] Joins)? Take(string token, string? userId, string gatewayId, Func<SessionInfo, bool>? fits = null)
    {
        if (_token is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(_token)))
        {
            return null;
        }

        var now = time.GetUtcNow();
        if (_claim is { } claim && now <= claim.Until && claim.GatewayId != gatewayId)
        {
            // Another gateway is taking it back: taken, unless that fails and it is given back. The same gateway may take
            // it again: its earlier try failed (the claim's answer was lost, or its give-back has not arrived yet).
            return null;
        }

        _claim = null;
        var window = _recoverable ? _window : history.Value.ResumeWindow;
        (SessionInfo Info, RoomJoin[] Joins, DateTimeOffset Until)? taken = _info is not null ? (_info with { Rooms = _rooms.ToArray() }, Joins(), now + window)
            : _closed is { } closed && now <= closed.Until ? closed
            : null;
        if (taken is not { } session || session.Info.Member.UserId != userId || (fits is not null && !fits(session.Info)))
        {
            return null;
        }

        if (_info is not null)
        {
            var (gateway, hub, connectionId) = (_gateway!, _info.Hub, _info.Member.ConnectionId);
            _ = gateway.Disconnect(hub, connectionId).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            SetClosed();
        }

        // Kept closed, and claimed by the gateway that took it, until that gateway ends the claim (EndClaim) or opens it
        // again (a recovery): so that it can be given back if taking it back fails on the cluster.
        var hold = cluster.Value.ResponseTimeout * ClaimHoldCalls;
        var until = session.Until > now + hold ? session.Until : now + hold;
        _closed = (session.Info, session.Joins, until);
        _claim = (gatewayId, now + hold);
        DelayDeactivation(until - now);
        return (session.Info, session.Joins);
    }

    private RoomJoin[] Joins()
    {
        var joins = new List<RoomJoin>(_joined.Count);
        foreach (var room in _rooms)
        {
            if (_joined.TryGetValue(room, out var position))
            {
                joins.Add(new RoomJoin(room, position));
            }
        }

        return [.. joins];
    }

    /// <summary>The session can no longer be taken back: its secret and its messages go.</summary>
    private void Forget()
    {
        _token = null;
        _recoverable = false;
        _closed = null;
        _recoveringGateway = null;
        _claim = null;
        _own.Clear();
    }

    private static string NewToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));

    /// <summary>Once per activation that was not opened by its gateway: ask the gateways for the connection.</summary>
    private Task RecoverAsync()
    {
        if (_recovery is { IsCompletedSuccessfully: true })
        {
            return Task.CompletedTask;
        }

        if (_recovery is null || _recovery.IsFaulted || _recovery.IsCanceled)
        {
            _recovery = AskGatewaysAsync();
        }

        return _recovery;
    }

    private async Task AskGatewaysAsync()
    {
        var key = this.GetPrimaryKeyString();
        var hub = GrainKeys.HubOf(key);
        var connectionId = key[(hub.Length + 1)..];
        var answers = await GatewayQuery.AskAllAsync(gateways, gateway => gateway.Session(hub, connectionId), cluster.Value.RebuildTimeout, $"Session {key}");
        foreach (var session in answers)
        {
            if (session is not null && _info is null)
            {
                SetOpen(session);
            }
        }
    }

    private void SetOpen(SessionInfo info)
    {
        if (_info is not null && _info.Member.GatewayId != info.Member.GatewayId)
        {
            dependents.Remove(_info.Hub, _info.Member.GatewayId, GrainContext.GrainId);
        }

        _info = info;
        _gateway = gateways.Of(info.Member.GatewayId);
        _chain = null;
        _closed = null;
        _recoveringGateway = null;
        _claim = null;
        _rooms.Clear();
        _rooms.AddRange(info.Rooms);
        _joined.Clear();
        dependents.Add(info.Hub, info.Member.GatewayId, GrainContext.GrainId);
        DelayDeactivation(TimeSpan.MaxValue);
    }

    private void SetClosed()
    {
        if (_info is not null)
        {
            dependents.Remove(_info.Hub, _info.Member.GatewayId, GrainContext.GrainId);
        }

        _info = null;
        _gateway = null;
        _chain = null;
        _rooms.Clear();
        _joined.Clear();
        DelayDeactivation(TimeSpan.Zero);
    }
}
