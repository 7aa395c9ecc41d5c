using System.Text.Json;
using Orleans.Runtime;
using Realtime.Contracts;

namespace Realtime.Tests.Core;

/// <summary>
/// A room, namespace or user: its members, and what it sends this gateway, numbered on a chain that starts when it gets
/// its first member. Calls can be made to fail (<see cref="Fail"/>) as when the grain's silo died under them.
/// </summary>
internal abstract class FakeGroup(FakeCluster cluster, string key, DeliveryTarget target) : IMemberGroupGrain
{
    private readonly Lock _lock = new();
    private readonly List<Member> _members = [];
    private long _position;

    public string Key { get; } = key;

    public string Epoch { get; private set; } = "e" + Math.Abs(key.GetHashCode()).ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The chain this gateway's deliveries are numbered on: a new one each time the group gets its first member, as a grain starts one for a gateway that had no members.</summary>
    public long Chain { get; private set; } = 7;

    public long Sequence { get; private set; }

    /// <summary>How many of the next calls fail as calls to a dead silo do.</summary>
    public int Fail { get; set; }

    public List<Publication> Published { get; } = [];

    public IReadOnlyList<Member> MemberList
    {
        get
        {
            lock (_lock)
            {
                return _members.ToList();
            }
        }
    }

    protected FakeCluster Cluster => cluster;

    /// <summary>Asks the one gateway there is for its members' sessions, as the grain asks each gateway.</summary>
    public Task<IReadOnlyList<SessionInfo>> Sessions() =>
        Task.FromResult(((Realtime.Grains.Gateways.ILocalGateway)cluster.Receiver).Sessions(nameof(CoreTestHub), [.. MemberList.Select(m => m.ConnectionId)]));

    protected GroupPosition Add(Member member)
    {
        ThrowIfFailing();
        lock (_lock)
        {
            _members.RemoveAll(m => m.ConnectionId == member.ConnectionId);
            if (_members.Count == 0)
            {
                (Chain, _position) = (Chain + 1, 0);
            }

            _members.Add(member);
            return new GroupPosition(Epoch, Sequence);
        }
    }

    protected int Remove(string connectionId)
    {
        ThrowIfFailing();
        lock (_lock)
        {
            _members.RemoveAll(m => m.ConnectionId == connectionId);
            return _members.Count;
        }
    }

    protected void Send(DeliveryKind kind, string? connection = null) => Push(null, kind, connection);

    protected void ThrowIfFailing()
    {
        lock (_lock)
        {
            if (Fail > 0)
            {
                Fail--;
                throw new SiloUnavailableException("The silo of the fake grain is dead.");
            }
        }
    }

    private void Push(Publication? publication, DeliveryKind kind, string? connection)
    {
        Delivery delivery;
        lock (_lock)
        {
            var sequence = publication is null ? Sequence : ++Sequence;
            delivery = new Delivery(
                nameof(CoreTestHub), target, Key, sequence, publication?.Payload, publication?.Except, publication?.Rooms, Chain, ++_position, kind, connection, Epoch);
        }

        cluster.Push(delivery);
    }

    public Task<long> PublishConfirmed(Publication publication) => Publish(publication);

    public Task<long> Publish(Publication publication)
    {
        ThrowIfFailing();
        lock (_lock)
        {
            Published.Add(publication);
        }

        Push(publication, DeliveryKind.Message, null);
        return Task.FromResult(Sequence);
    }

    public async Task<long> PublishAll(IReadOnlyList<Publication> publications)
    {
        var last = 0L;
        foreach (var publication in publications)
        {
            last = await Publish(publication);
        }

        return last;
    }

    public async Task<GroupPosition> Send(Publication publication) => new(Epoch, await Publish(publication));

    public async Task<GroupPosition> SendAll(IReadOnlyList<Publication> publications) => new(Epoch, await PublishAll(publications));

    /// <summary>When set, answers <see cref="MemberCount"/> in its place (a call that fails, or that a test watches).</summary>
    public Func<Task<int>>? OnMemberCount { get; set; }

    public Task<int> MemberCount() => OnMemberCount?.Invoke() ?? Task.FromResult(MemberList.Count);

    public Task<IReadOnlyList<Member>> Members() => Task.FromResult(MemberList);

    /// <summary>When set, the history has lost everything: no replay is complete.</summary>
    public bool HistoryLost { get; set; }

    /// <summary>Comes back as a grain does after its silo died: a new epoch, numbered from 1, with an empty history.</summary>
    public void Restart()
    {
        lock (_lock)
        {
            (Epoch, Sequence) = (Epoch + "'", 0);
            Published.Clear();
        }
    }

    /// <summary>How many times its history was asked for.</summary>
    public int HistoryReads { get; private set; }

    /// <summary>Everything published after <paramref name="sequence"/>: the fake's history keeps it all.</summary>
    public Task<Replay> Since(string? epoch, long sequence)
    {
        ThrowIfFailing();
        lock (_lock)
        {
            HistoryReads++;
            var missed = Published.Select((p, i) => new HistoryEntry(i + 1, p.Payload, p.Except, p.Rooms, p.Source)).Where(e => e.Sequence > sequence).ToList();
            return Task.FromResult(new Replay(epoch == Epoch && !HistoryLost, Epoch, Sequence, HistoryLost ? [] : missed));
        }
    }

    public Task MoveTo(SiloAddress silo) => throw new NotSupportedException();

    public Task GatewaysDeparted(IReadOnlyList<string> gatewayIds) => throw new NotSupportedException();
}

internal sealed class FakeRoom(FakeCluster cluster, string key) : FakeGroup(cluster, key, DeliveryTarget.Room), IRoomGrain
{
    public Task<GroupPosition> Join(Member member) => Task.FromResult(Add(member));

    /// <summary>Like a room grain, answers a leave with a notice on the gateway's chain, after what it sent before.</summary>
    public Task<int> Leave(Member member)
    {
        var left = Remove(member.ConnectionId);
        Send(DeliveryKind.MemberLeft, member.ConnectionId);
        return Task.FromResult(left);
    }

    public Task<int> Close()
    {
        var count = MemberList.Count;
        foreach (var member in MemberList)
        {
            Remove(member.ConnectionId);
        }

        Send(DeliveryKind.Closed);
        return Task.FromResult(count);
    }
}

internal sealed class FakeNamespace(FakeCluster cluster, string key) : FakeGroup(cluster, key, DeliveryTarget.Namespace), INamespaceGrain
{
    public Task<GroupPosition> Connect(Member member) => Task.FromResult(Add(member));

    /// <summary>When set, a disconnect reaches the grain only once the task completes, as a call that is slow on its way.</summary>
    public Task? DisconnectsWaitFor { get; set; }

    public async Task<int> Disconnect(string gatewayId, string connectionId)
    {
        await (DisconnectsWaitFor ?? Task.CompletedTask);
        return Remove(connectionId);
    }
}

internal sealed class FakeUser(FakeCluster cluster, string key) : FakeGroup(cluster, key, DeliveryTarget.User), IUserGrain
{
    public Task<int> Connect(Member member)
    {
        Add(member);
        return Task.FromResult(MemberList.Count);
    }

    public Task<int> Disconnect(string gatewayId, string connectionId) => Task.FromResult(Remove(connectionId));
}

/// <summary>The hub's registry of gateways: records who registered, and sends to the whole hub on one chain.</summary>
internal sealed class FakeRegistry(FakeCluster cluster, string hub) : IGatewayRegistryGrain
{
    private long _position;

    public List<string> Registered { get; } = [];

    public Task Register(string gatewayId)
    {
        lock (Registered)
        {
            Registered.Add(gatewayId);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> Gateways() => Task.FromResult<IReadOnlyList<string>>([.. Registered]);

    public Task<IReadOnlyList<GatewayStats>> GatewayStats(int maxRooms) => throw new NotSupportedException();

    /// <summary>The epoch in which <see cref="Send"/> numbers.</summary>
    public string Epoch { get; } = "hub-epoch";

    /// <summary>What the registry took, in order.</summary>
    public List<Publication> Published { get; } = [];

    public Task<long> Publish(Publication publication) => Task.FromResult(Stamp(publication, epoch: null));

    public Task<GroupPosition> Send(Publication publication) => Task.FromResult(new GroupPosition(Epoch, Stamp(publication, Epoch)));

    private long Stamp(Publication publication, string? epoch)
    {
        long position;
        lock (Published)
        {
            position = ++_position;
            Published.Add(publication);
        }

        cluster.Push(new Delivery(hub, DeliveryTarget.Hub, hub, position, publication.Payload, publication.Except, null, 9, position, Epoch: epoch));
        return position;
    }

    public Task GatewaysDeparted(IReadOnlyList<string> gatewayIds) => throw new NotSupportedException();
}

/// <summary>A session grain that records what the gateway told it.</summary>
internal sealed class FakeSession : ISessionGrain
{
    public SessionInfo? Opened { get; private set; }

    public List<string> Rooms { get; } = [];

    public (string GatewayId, bool KeepForResume)? Closed { get; private set; }

    public List<SerializedPayload> Sent { get; } = [];

    public Task Open(SessionInfo info)
    {
        Opened = info;
        return Task.CompletedTask;
    }

    public Task AddRoom(string roomKey, GroupPosition? joined)
    {
        lock (Rooms)
        {
            Rooms.Add(roomKey);
        }

        return Task.CompletedTask;
    }

    public Task RemoveRoom(string roomKey)
    {
        lock (Rooms)
        {
            Rooms.Remove(roomKey);
        }

        return Task.CompletedTask;
    }

    public Task Close(string gatewayId, bool keepForResume)
    {
        Closed = (gatewayId, keepForResume);
        return Task.CompletedTask;
    }

    public Task<bool> Send(SerializedPayload payload)
    {
        Sent.Add(payload);
        return Task.FromResult(Opened is not null);
    }

    public Task<string> OpenRecoverable(SessionInfo info, TimeSpan window) => throw new NotSupportedException();

    public Task<SessionRecovery?> Recover(string token, string? userId, string gatewayId) => throw new NotSupportedException();

    public Task<Replay> Since(string epoch, long sequence) => throw new NotSupportedException();

    public Task<string> Resumable() => throw new NotSupportedException();

    /// <summary>A closed session a client may take back with the token (SignalR's Resume), once.</summary>
    public (string Token, SessionInfo Info)? Claimable { get; set; }

    /// <summary>The gateway the session is claimed for, while a resume runs.</summary>
    public string? ClaimedBy { get; private set; }

    public Task<SessionInfo?> Claim(string token, string? userId, string hub, string @namespace, string gatewayId)
    {
        if (ClaimedBy is not null || Claimable is not { } claimable || claimable.Token != token || claimable.Info.Namespace != @namespace || claimable.Info.Hub != hub)
        {
            return Task.FromResult<SessionInfo?>(null);
        }

        ClaimedBy = gatewayId;
        return Task.FromResult<SessionInfo?>(claimable.Info);
    }

    public Task EndClaim(string gatewayId, bool resumed)
    {
        if (ClaimedBy == gatewayId)
        {
            ClaimedBy = null;
            if (resumed)
            {
                Claimable = null;
            }
        }

        return Task.CompletedTask;
    }

    public Task<SessionInfo?> Get() => Task.FromResult(Opened);

    /// <summary>The data last set on the session, as its text; null when never set.</summary>
    public string? Data { get; private set; }

    public Task SetData(JsonElement? data)
    {
        Data = data?.GetRawText();
        return Task.CompletedTask;
    }

    public Task<bool> JoinRoom(string roomKey) => Task.FromResult(false);

    public Task<bool> LeaveRoom(string roomKey) => Task.FromResult(false);

    public Task<JsonElement> InvokeClient(string method, JsonElement[] args, TimeSpan timeout) => throw new NotSupportedException();

    public Task<bool> Disconnect() => Task.FromResult(false);

    public Task GatewaysDeparted(IReadOnlyList<string> gatewayIds) => throw new NotSupportedException();
}
