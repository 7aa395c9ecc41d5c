using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Realtime.Contracts;
using Realtime.Contracts.Hosting;
using Realtime.Gateway;
using Realtime.Gateway.Core;
using Realtime.Gateway.Observability;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Core;

/// <summary>The hub type the core is tested under; its name starts every grain key.</summary>
public sealed class CoreTestHub;

/// <summary>
/// The grains one gateway's delivery core talks to, in memory: rooms, namespaces and users that number what they send
/// this gateway on one chain, as the real groups do, and push it to the core (or hold it, for a test to deliver in
/// another order); sessions and the hub's registry that record what they were told. For tests of the core's logic
/// only: the grains themselves are tested on Orleans' test cluster.
/// </summary>
internal sealed class FakeCluster : IGrainFactory
{
    private readonly ConcurrentDictionary<string, object> _grains = new(StringComparer.Ordinal);
    private readonly List<Delivery> _held = [];

    public FakeCluster()
    {
        Time = new ManualTimeProvider();
        var lifetime = new Lifetime();
        var options = Options.Create(new GatewayOptions { Name = "core-test" });
        var metrics = new GatewayMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var identity = new GatewayIdentity(options, new SiloDetails());
        Receiver = new GatewayReceiver(this, identity, options, new ServiceCollection().BuildServiceProvider(), lifetime, NullLogger<GatewayReceiver>.Instance);
        Hub = new LocalHub<CoreTestHub>(
            this, Receiver, new JsonOnly(), options, lifetime, Options.Create(new RealtimeStreamsOptions()), metrics, Time, NullLogger<LocalHub<CoreTestHub>>.Instance);
    }

    public LocalHub<CoreTestHub> Hub { get; }

    public GatewayReceiver Receiver { get; }

    public ManualTimeProvider Time { get; }

    public string GatewayId => Receiver.GatewayId;

    /// <summary>When set, what the groups send is kept in <see cref="TakeHeld"/> instead of reaching the core.</summary>
    public bool HoldDeliveries { get; set; }

    public FakeRoom Room(string @namespace, string room) => Get<FakeRoom>(GrainKeys.Room(nameof(CoreTestHub), @namespace, room));

    public FakeNamespace Namespace(string @namespace) => Get<FakeNamespace>(GrainKeys.Namespace(nameof(CoreTestHub), @namespace));

    public FakeSession Session(string connectionId) => Get<FakeSession>(GrainKeys.Session(nameof(CoreTestHub), connectionId));

    public FakeUser User(string userId) => Get<FakeUser>(GrainKeys.User(nameof(CoreTestHub), userId));

    /// <summary>The deliveries held since the last call (with <see cref="HoldDeliveries"/>), in the order they were sent.</summary>
    public List<Delivery> TakeHeld()
    {
        lock (_held)
        {
            var taken = _held.ToList();
            _held.Clear();
            return taken;
        }
    }

    /// <summary>Hands a delivery to the gateway, as its silo's gateway service does.</summary>
    public void Deliver(Delivery delivery) => ((Realtime.Grains.Gateways.ILocalGateway)Receiver).Deliver(delivery);

    internal void Push(Delivery delivery)
    {
        lock (_held)
        {
            if (HoldDeliveries)
            {
                _held.Add(delivery);
                return;
            }
        }

        Deliver(delivery);
    }

    private T Get<T>(string key)
        where T : class => (T)_grains.GetOrAdd(key, k => typeof(T) switch
        {
            var t when t == typeof(FakeRoom) => new FakeRoom(this, k),
            var t when t == typeof(FakeNamespace) => new FakeNamespace(this, k),
            var t when t == typeof(FakeUser) => new FakeUser(this, k),
            var t when t == typeof(FakeSession) => new FakeSession(),
            var t when t == typeof(FakeRegistry) => new FakeRegistry(this, k),
            _ => throw new NotSupportedException(typeof(T).Name),
        });

    public TGrainInterface GetGrain<TGrainInterface>(string primaryKey, string? grainClassNamePrefix = null)
        where TGrainInterface : IGrainWithStringKey
    {
        object grain = typeof(TGrainInterface) switch
        {
            var t when t == typeof(IRoomGrain) => Get<FakeRoom>(primaryKey),
            var t when t == typeof(INamespaceGrain) => Get<FakeNamespace>(primaryKey),
            var t when t == typeof(IUserGrain) => Get<FakeUser>(primaryKey),
            var t when t == typeof(ISessionGrain) => Get<FakeSession>(primaryKey),
            var t when t == typeof(IGatewayRegistryGrain) => Get<FakeRegistry>(primaryKey),
            _ => throw new NotSupportedException($"The fake cluster has no {typeof(TGrainInterface).Name}."),
        };
        return (TGrainInterface)grain;
    }

    public TGrainInterface GetGrain<TGrainInterface>(Guid primaryKey, string? grainClassNamePrefix = null) where TGrainInterface : IGrainWithGuidKey => throw new NotSupportedException();

    public TGrainInterface GetGrain<TGrainInterface>(long primaryKey, string? grainClassNamePrefix = null) where TGrainInterface : IGrainWithIntegerKey => throw new NotSupportedException();

    public TGrainInterface GetGrain<TGrainInterface>(Guid primaryKey, string keyExtension, string? grainClassNamePrefix = null) where TGrainInterface : IGrainWithGuidCompoundKey => throw new NotSupportedException();

    public TGrainInterface GetGrain<TGrainInterface>(long primaryKey, string keyExtension, string? grainClassNamePrefix = null) where TGrainInterface : IGrainWithIntegerCompoundKey => throw new NotSupportedException();

    public TGrainObserverInterface CreateObjectReference<TGrainObserverInterface>(IGrainObserver obj) where TGrainObserverInterface : IGrainObserver => throw new NotSupportedException();

    public void DeleteObjectReference<TGrainObserverInterface>(IGrainObserver obj) where TGrainObserverInterface : IGrainObserver => throw new NotSupportedException();

    public IGrain GetGrain(Type grainInterfaceType, Guid grainPrimaryKey) => throw new NotSupportedException();

    public IGrain GetGrain(Type grainInterfaceType, long grainPrimaryKey) => throw new NotSupportedException();

    public IGrain GetGrain(Type grainInterfaceType, string grainPrimaryKey) => throw new NotSupportedException();

    public IGrain GetGrain(Type grainInterfaceType, Guid grainPrimaryKey, string keyExtension) => throw new NotSupportedException();

    public IGrain GetGrain(Type grainInterfaceType, long grainPrimaryKey, string keyExtension) => throw new NotSupportedException();

    public TGrainInterface GetGrain<TGrainInterface>(GrainId grainId) where TGrainInterface : IAddressable => throw new NotSupportedException();

    public IAddressable GetGrain(GrainId grainId) => throw new NotSupportedException();

    public IAddressable GetGrain(GrainId grainId, GrainInterfaceType interfaceType) => throw new NotSupportedException();

    public IAddressable GetGrain(Type interfaceType, IdSpan grainKey, string grainClassNamePrefix) => throw new NotSupportedException();

    public IAddressable GetGrain(Type interfaceType, IdSpan grainKey) => throw new NotSupportedException();

    private sealed class Lifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
        }
    }

    private sealed class SiloDetails : ILocalSiloDetails
    {
        public string Name => "core-test";

        public string ClusterId => "core-test";

        public string DnsHostName => "localhost";

        public SiloAddress SiloAddress { get; } = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);

        public SiloAddress GatewayAddress => SiloAddress;
    }

    private sealed class JsonOnly : IHubProtocolResolver
    {
        private static readonly IHubProtocol Json = new JsonHubProtocol();

        public IReadOnlyList<IHubProtocol> AllProtocols { get; } = [Json];

        public IHubProtocol? GetProtocol(string protocolName, IReadOnlyList<string>? supportedProtocols) => protocolName == Json.Name ? Json : null;
    }
}

/// <summary>
/// A room, namespace or user: its members, and what it sends this gateway, numbered on one chain. Calls can be made
/// to fail (<see cref="Fail"/>) as when the grain's silo died under them.
/// </summary>
internal abstract class FakeGroup(FakeCluster cluster, string key, DeliveryTarget target) : IMemberGroupGrain
{
    private readonly Lock _lock = new();
    private readonly List<Member> _members = [];
    private long _position;

    public string Key { get; } = key;

    public string Epoch { get; } = "e" + Math.Abs(key.GetHashCode()).ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    public long Chain { get; } = 7;

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

    protected GroupPosition Add(Member member)
    {
        ThrowIfFailing();
        lock (_lock)
        {
            _members.RemoveAll(m => m.ConnectionId == member.ConnectionId);
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

    public Task<int> MemberCount() => Task.FromResult(MemberList.Count);

    public Task<IReadOnlyList<Member>> Members() => Task.FromResult(MemberList);

    public Task<Replay> Since(string? epoch, long sequence) => throw new NotSupportedException();

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

    public Task<int> Disconnect(string gatewayId, string connectionId) => Task.FromResult(Remove(connectionId));
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

    public Task<long> Publish(Publication publication)
    {
        var position = Interlocked.Increment(ref _position);
        cluster.Push(new Delivery(hub, DeliveryTarget.Hub, hub, position, publication.Payload, publication.Except, null, 9, position));
        return Task.FromResult(position);
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

    public Task<SessionInfo?> Claim(string token, string? userId) => throw new NotSupportedException();

    public Task<SessionInfo?> Get() => Task.FromResult(Opened);

    public Task SetData(JsonElement? data) => Task.CompletedTask;

    public Task<bool> JoinRoom(string roomKey) => Task.FromResult(false);

    public Task<bool> LeaveRoom(string roomKey) => Task.FromResult(false);

    public Task<JsonElement> InvokeClient(string method, JsonElement[] args, TimeSpan timeout) => throw new NotSupportedException();

    public Task<bool> Disconnect() => Task.FromResult(false);

    public Task GatewaysDeparted(IReadOnlyList<string> gatewayIds) => throw new NotSupportedException();
}

/// <summary>A connection of any protocol as the core sees it: what was written to it, as the events' text.</summary>
internal sealed class TestConnection(FakeCluster cluster, string connectionId, string @namespace, string? userId = null)
    : LocalConnection(connectionId, @namespace, new Member(connectionId, cluster.GatewayId, userId), null)
{
    private readonly List<string> _received = [];

    public override string Protocol => "test";

    public override string Transport => "memory";

    /// <summary>What each written message carried: the first argument of its invocation (the event), as JSON.</summary>
    public IReadOnlyList<string> Received
    {
        get
        {
            lock (_received)
            {
                return _received.ToList();
            }
        }
    }

    public List<string> ClosedRooms { get; } = [];

    public override void Write(OutgoingMessage message)
    {
        var invocation = Wire.HubJson.ToInvocation(message.Payload);
        lock (_received)
        {
            _received.Add(((JsonElement)invocation.Arguments[0]!).GetString() ?? "");
        }
    }

    public override void RoomClosed(string roomName) => ClosedRooms.Add(roomName);

    public override void Abort()
    {
    }

    public override void Close(string reason)
    {
    }

    public override Task CloseForShutdownAsync() => Task.CompletedTask;

    public override Task<JsonElement> InvokeAsync(string method, JsonElement[] args, CancellationToken cancellationToken) => throw new NotSupportedException();
}
