using System.Text.Json;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Realtime.Grains.Hubs;
using Realtime.Grains.Internal;

namespace Realtime.Grains.Sessions;

/// <summary>
/// One connection's state, reachable from any gateway or service. Reentrant because the operations it forwards to
/// the connection's gateway call back into it (joining a room records the room here).
/// </summary>
/// <remarks>
/// Like members, a session is soft state held by its gateway. A session that comes back after its silo died, and
/// is asked about before its gateway opens it again, asks the gateways whether one of them holds the connection.
/// </remarks>
[Reentrant]
internal sealed class SessionGrain(GatewayDependents dependents, IOptions<GatewayLeaseOptions> lease, IOptions<Hosting.HistoryOptions> history, TimeProvider time) : Grain, ISessionGrain
{
    private string? _resumeToken;
    private (SessionInfo Info, DateTimeOffset Until)? _closed;

    private readonly List<string> _rooms = [];
    private SessionInfo? _info;
    private IGatewayObserver? _gateway;
    private DeliveryChain? _chain;
    private Task? _recovery;
    private long _sequence;

    public Task Open(SessionInfo info, IGatewayObserver gateway)
    {
        SetOpen(info, gateway);
        _recovery = Task.CompletedTask;
        return Task.CompletedTask;
    }

    public Task Close()
    {
        var window = history.Value.ResumeWindow;
        if (_resumeToken is not null && _info is not null && window > TimeSpan.Zero)
        {
            // Kept for its client to take back after a reconnect, until the window ends.
            _closed = (_info with { Rooms = _rooms.ToArray() }, time.GetUtcNow() + window);
            SetClosed();
            _recovery = Task.CompletedTask;
            DelayDeactivation(window);
            return Task.CompletedTask;
        }

        SetClosed();
        _recovery = Task.CompletedTask;
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public async Task<string> Resumable()
    {
        await RecoverAsync();
        if (_info is null)
        {
            throw new InvalidOperationException($"Connection {this.GetPrimaryKeyString()} is not open.");
        }

        return _resumeToken ??= Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
    }

    public Task<SessionInfo?> Claim(string token, string? userId)
    {
        if (_resumeToken is null || !System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.UTF8.GetBytes(token), System.Text.Encoding.UTF8.GetBytes(_resumeToken)))
        {
            return Task.FromResult<SessionInfo?>(null);
        }

        var taken = _info is not null ? _info with { Rooms = _rooms.ToArray() }
            : _closed is { } closed && time.GetUtcNow() <= closed.Until ? closed.Info
            : null;
        if (taken is null || taken.Member.UserId != userId)
        {
            return Task.FromResult<SessionInfo?>(null);
        }

        if (_info is not null)
        {
            // Still open here: its gateway died and is not declared gone yet, or the client took its session to a new
            // connection while the old one lingers. The new connection has it now; the old one is closed if it can be.
            var (gateway, hub, connectionId) = (_gateway!, _info.Hub, _info.Member.ConnectionId);
            _ = gateway.Disconnect(hub, connectionId).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            SetClosed();
        }

        _closed = null;
        _resumeToken = null;
        DeactivateOnIdle();
        return Task.FromResult<SessionInfo?>(taken);
    }

    /// <summary>The connection's gateway left or died: the connection is gone with it.</summary>
    public Task GatewaysDeparted(IReadOnlyList<string> gatewayIds) =>
        _info is not null && gatewayIds.Contains(_info.Member.GatewayId) ? Close() : Task.CompletedTask;

    public async Task<SessionInfo?> Get()
    {
        await RecoverAsync();
        return _info is null ? null : _info with { Rooms = _rooms.ToArray() };
    }

    public async Task AddRoom(string roomKey)
    {
        await RecoverAsync();
        if (_info is not null && !_rooms.Contains(roomKey))
        {
            _rooms.Add(roomKey);
        }
    }

    public async Task RemoveRoom(string roomKey)
    {
        await RecoverAsync();
        _rooms.Remove(roomKey);
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
            return false;
        }

        _chain ??= new DeliveryChain(_gateway!);
        _chain.Send(new Delivery(_info.Hub, DeliveryTarget.Connection, _info.Member.ConnectionId, ++_sequence, payload, null));
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
        var answers = await GatewayQuery.AskAllAsync(
            GrainFactory, hub, gateway => gateway.Session(hub, connectionId), lease.Value, $"Session {key}");
        foreach (var (gateway, session) in answers)
        {
            if (session is not null && _info is null)
            {
                SetOpen(session, gateway.Observer);
            }
        }
    }

    private void SetOpen(SessionInfo info, IGatewayObserver gateway)
    {
        if (_info is not null && _info.Member.GatewayId != info.Member.GatewayId)
        {
            dependents.Remove(_info.Hub, _info.Member.GatewayId, GrainContext.GrainId);
        }

        _info = info;
        _gateway = gateway;
        _chain = null;
        _rooms.Clear();
        _rooms.AddRange(info.Rooms);
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
        DelayDeactivation(TimeSpan.Zero);
    }
}
