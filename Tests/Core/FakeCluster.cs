using System.Collections.Concurrent;
using System.Net;
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
    private readonly ConcurrentDictionary<(Type Interface, string Key), object> _grains = new();
    private readonly List<Delivery> _held = [];

    /// <param name="keepSends">Whether the gateway keeps its sends (<see cref="SentLog"/>), as in a cluster of several silos of this version.</param>
    public FakeCluster(bool keepSends = false)
    {
        Time = new ManualTimeProvider();
        var lifetime = new Lifetime();
        var options = Options.Create(new GatewayOptions { Name = "core-test" });
        var metrics = new GatewayMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var identity = new GatewayIdentity(options, SiloDetails);
        Receiver = new GatewayReceiver(this, identity, options, new ServiceCollection().BuildServiceProvider(), lifetime, NullLogger<GatewayReceiver>.Instance);
        Hub = new HubCores(new HubCoreServices(
            this, Receiver, new JsonOnly(), options, lifetime, Options.Create(new RealtimeStreamsOptions()), metrics, Time, NullLoggerFactory.Instance,
            Sent: keepSends ? new SentLog(options, Time, NullLogger<SentLog>.Instance, static () => true) : null)).For<CoreTestHub>();
    }

    public LocalHub<CoreTestHub> Hub { get; }

    public GatewayReceiver Receiver { get; }

    /// <summary>The gateway's silo: 127.0.0.1:11111, generation 1 (silo 1 of <see cref="FakeMembership"/>).</summary>
    public ILocalSiloDetails SiloDetails { get; } = new CoreTestSilo();

    public ManualTimeProvider Time { get; }

    public string GatewayId => Receiver.GatewayId;

    /// <summary>When set, what the groups send is kept in <see cref="TakeHeld"/> instead of reaching the core.</summary>
    public bool HoldDeliveries { get; set; }

    /// <summary>The hub's grain, which sends to the whole hub.</summary>
    public FakeRegistry Registry => (FakeRegistry)GetGrain<IGatewayRegistryGrain>(nameof(CoreTestHub));

    public FakeRoom Room(string @namespace, string room) => (FakeRoom)GetGrain<IRoomGrain>(GrainKeys.Room(nameof(CoreTestHub), @namespace, room));

    public FakeNamespace Namespace(string @namespace) => (FakeNamespace)GetGrain<INamespaceGrain>(GrainKeys.Namespace(nameof(CoreTestHub), @namespace));

    public FakeSession Session(string connectionId) => (FakeSession)GetGrain<ISessionGrain>(GrainKeys.Session(nameof(CoreTestHub), connectionId));

    /// <summary>Whether anything has called the connection's session grain.</summary>
    public bool HasSession(string connectionId) => _grains.ContainsKey((typeof(ISessionGrain), GrainKeys.Session(nameof(CoreTestHub), connectionId)));

    /// <summary>What the gateway answers the connection's session grain, when the grain asks for the connection.</summary>
    public SessionInfo? AskForSession(string connectionId) => ((Realtime.Grains.Gateways.ILocalGateway)Receiver).Session(nameof(CoreTestHub), connectionId);

    public FakeUser User(string userId) => (FakeUser)GetGrain<IUserGrain>(GrainKeys.User(nameof(CoreTestHub), userId));

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

    public TGrainInterface GetGrain<TGrainInterface>(string primaryKey, string? grainClassNamePrefix = null)
        where TGrainInterface : IGrainWithStringKey =>
        (TGrainInterface)_grains.GetOrAdd((typeof(TGrainInterface), primaryKey), static (id, cluster) => id.Interface switch
        {
            var t when t == typeof(IRoomGrain) => new FakeRoom(cluster, id.Key),
            var t when t == typeof(INamespaceGrain) => new FakeNamespace(cluster, id.Key),
            var t when t == typeof(IUserGrain) => new FakeUser(cluster, id.Key),
            var t when t == typeof(ISessionGrain) => new FakeSession(),
            var t when t == typeof(IGatewayRegistryGrain) => new FakeRegistry(cluster, id.Key),
            _ => throw new NotSupportedException($"The fake cluster has no {id.Interface.Name}."),
        }, this);

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

    private sealed class CoreTestSilo : ILocalSiloDetails
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
