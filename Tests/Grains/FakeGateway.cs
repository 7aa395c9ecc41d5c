using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Realtime.Contracts;
using Realtime.Grains.Gateways;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Grains;

/// <summary>
/// A gateway as grains see it, for grain tests: the connections of one hub on one silo of the in-process test cluster,
/// reached through that silo's real gateway service. It holds its own members (so grains rebuilding themselves can ask
/// it) and records every delivery. Its id names its silo, as a real gateway's does, so killing that silo is the
/// gateway dying.
/// </summary>
public sealed class FakeGateway
{
    private readonly ConcurrentDictionary<(DeliveryTarget, string), ConcurrentDictionary<string, Member>> _members = new();
    private readonly ConcurrentQueue<Delivery> _deliveries = new();
    private readonly ConcurrentQueue<(Delivery Delivery, GrainId? In)> _handed = new();
    private readonly ConcurrentDictionary<(DeliveryTarget, string), (GroupPosition? Applied, SentMessage[] Sent)> _known = new();
    private readonly ConcurrentQueue<(DeliveryTarget Target, string Key)> _queries = new();
    private readonly ConcurrentDictionary<string, JsonElement> _data = new(StringComparer.Ordinal);
    private int _sessionQuestions;
    private int _failures;
    private int _actQuestions;
    private int _invokeQuestions;
    private readonly IGrainFactory _grains;

    public FakeGateway(IGrainFactory grains, InProcessSiloHandle silo, string hub, string name)
    {
        _grains = grains;
        Hub = hub;
        Silo = silo;
        GatewayId = GatewayIds.Create(name, silo.SiloAddress);
        FakeGatewayHost.Of(silo).Add(this);
    }

    public string Hub { get; }

    public InProcessSiloHandle Silo { get; }

    public string GatewayId { get; }

    public IReadOnlyCollection<Delivery> Deliveries => _deliveries;

    /// <summary>How many deliveries each call of several at once (<see cref="IGatewayService.DeliverAll"/>) brought.</summary>
    public ConcurrentQueue<int> Calls { get; } = new();

    /// <summary>Each delivery with the grain (or grain service) in whose turn it reached this gateway.</summary>
    public IReadOnlyCollection<(Delivery Delivery, GrainId? In)> Handed => _handed;

    /// <summary>A connection of this gateway joins a room, as a gateway does it: its own record first, then the grain's.</summary>
    public async Task<Member> JoinAsync(string roomKey, string connectionId)
    {
        var member = new Member(connectionId, GatewayId, null);
        Local(DeliveryTarget.Room, roomKey)[connectionId] = member;
        await _grains.GetGrain<IRoomGrain>(roomKey).Join(member).Within($"{connectionId} to join");
        return member;
    }

    /// <summary>
    /// A member of a group that only this gateway knows of, as after the group's grain died: the grain learns of it when
    /// it comes back and asks.
    /// </summary>
    public void Holds(DeliveryTarget target, string key, string connectionId) => Local(target, key)[connectionId] = new Member(connectionId, GatewayId, null);

    /// <summary>What this gateway says of a group when a new activation asks: the last message it applied, and what it sent the group lately.</summary>
    public void Knows(DeliveryTarget target, string key, GroupPosition? applied, params SentMessage[] sent) => _known[(target, key)] = (applied, sent);

    /// <summary>Registers with the hub's grain, as a gateway does when it makes the hub's lifetime manager.</summary>
    public Task RegisterAsync() => _grains.GetGrain<IGatewayRegistryGrain>(Hub).Register(GatewayId).Within($"{GatewayId} to register");

    /// <summary>The messages this gateway got for a group, in the order its chain says, as the real gateway applies them.</summary>
    public long[] SequencesOf(DeliveryTarget target, string key) =>
        _deliveries.Where(d => d.Target == target && d.Key == key && d.Kind == DeliveryKind.Message)
            .GroupBy(d => d.Chain)
            .SelectMany(chain => chain.OrderBy(d => d.Position))
            .Select(d => d.Sequence)
            .ToArray();

    /// <summary>The groups that asked this gateway for its members (being activated) since <see cref="ClearQueries"/>.</summary>
    public string[] QueriedKeys(DeliveryTarget target) => _queries.Where(q => q.Target == target).Select(q => q.Key).Distinct().ToArray();

    public void ClearQueries() => _queries.Clear();

    /// <summary>Gives a connection of this gateway data, which its session then carries.</summary>
    public void SetData(string connectionId, JsonElement data) => _data[connectionId] = data;

    /// <summary>How many times a grain asked this gateway for several sessions at once.</summary>
    public int SessionQuestions => Volatile.Read(ref _sessionQuestions);

    /// <summary>When set, a question for several sessions at once fails, as a gateway that does not answer.</summary>
    public bool FailSessionQuestions { get; set; }

    /// <summary>How many times a grain asked this gateway to act on several connections at once.</summary>
    public int ActQuestions => Volatile.Read(ref _actQuestions);

    /// <summary>When set, a question to act on several connections at once fails, as a gateway that does not answer.</summary>
    public bool FailActQuestions { get; set; }

    /// <summary>Each action done to a connection of this gateway, however it was asked for.</summary>
    public ConcurrentQueue<(string ConnectionId, ConnectionActionKind Kind)> Acted { get; } = new();

    /// <summary>How many times a grain asked this gateway to call several clients at once.</summary>
    public int InvokeQuestions => Volatile.Read(ref _invokeQuestions);

    /// <summary>When set, a question to call several clients at once fails, as a gateway that does not answer.</summary>
    public bool FailInvokeQuestions { get; set; }

    internal IReadOnlyList<JsonElement> InvokeClients(IReadOnlyList<string> connectionIds, string method)
    {
        Interlocked.Increment(ref _invokeQuestions);
        return FailInvokeQuestions
            ? throw new InvalidOperationException("The gateway does not answer.")
            : [.. connectionIds.Select(id => AnswerOf(id, method)).OfType<JsonElement>()];
    }

    /// <summary>What a client of this gateway answers a call, however it was asked: null when it is not here.</summary>
    internal JsonElement? AnswerOf(string connectionId, string method) =>
        _members.Values.Any(members => members.ContainsKey(connectionId)) ? JsonSerializer.SerializeToElement($"{connectionId} answers {method}") : null;

    internal int Act(IReadOnlyList<string> connectionIds, ConnectionAction action)
    {
        Interlocked.Increment(ref _actQuestions);
        return FailActQuestions ? throw new InvalidOperationException("The gateway does not answer.") : connectionIds.Count(id => Do(id, action.Kind));
    }

    /// <summary>Does an action to one connection: true when it is a member of something here.</summary>
    internal bool Do(string connectionId, ConnectionActionKind kind)
    {
        if (!_members.Values.Any(members => members.ContainsKey(connectionId)))
        {
            return false;
        }

        Acted.Enqueue((connectionId, kind));
        return true;
    }

    internal SessionInfo? Session(string connectionId) =>
        _data.TryGetValue(connectionId, out var data) ? new SessionInfo(Hub, "/", new Member(connectionId, GatewayId, null), [], data) : null;

    internal IReadOnlyList<SessionInfo> Sessions(IReadOnlyList<string> connectionIds)
    {
        Interlocked.Increment(ref _sessionQuestions);
        return FailSessionQuestions
            ? throw new InvalidOperationException("The gateway does not answer.")
            : [.. connectionIds.Select(Session).OfType<SessionInfo>()];
    }

    /// <summary>
    /// While set, a message delivered here is held in the call that brings it until the task completes (at most 10 s),
    /// as a gateway slow to take it; <see cref="Holding"/> completes when the first one arrives.
    /// </summary>
    public Task? HoldMessages { get; set; }

    /// <summary>Completes when a message arrives while <see cref="HoldMessages"/> is set.</summary>
    public TaskCompletionSource Holding { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>While set, a message delivered here fails the call that brings it, as a gateway whose process just died.</summary>
    public bool FailMessages { get; set; }

    /// <summary>How many messages failed while <see cref="FailMessages"/> was set.</summary>
    public int Failures => Volatile.Read(ref _failures);

    internal void Deliver(Delivery delivery, GrainId? handedIn)
    {
        if (delivery.Kind == DeliveryKind.Message && FailMessages)
        {
            Interlocked.Increment(ref _failures);
            throw new InvalidOperationException($"Gateway {GatewayId} fails.");
        }

        if (delivery.Kind == DeliveryKind.Message && HoldMessages is { } hold)
        {
            Holding.TrySetResult();
            hold.Wait(TimeSpan.FromSeconds(10));
        }

        _handed.Enqueue((delivery, handedIn));
        _deliveries.Enqueue(delivery);
    }

    internal IReadOnlyList<Member> Members(DeliveryTarget target, string key)
    {
        _queries.Enqueue((target, key));
        return _members.TryGetValue((target, key), out var members) ? [.. members.Values] : [];
    }

    internal GatewayGroupState GroupState(DeliveryTarget target, string key) =>
        _known.TryGetValue((target, key), out var known) ? new(Members(target, key), known.Applied, known.Sent) : new(Members(target, key), null, []);

    private ConcurrentDictionary<string, Member> Local(DeliveryTarget target, string key) =>
        _members.GetOrAdd((target, key), static _ => new(StringComparer.Ordinal));
}

/// <summary>
/// The <see cref="ILocalGateway"/> of one silo of the grain tests' cluster: hands each hub's calls to the fake gateway
/// a test made for that hub on this silo (tests use hubs of their own).
/// </summary>
public sealed class FakeGatewayHost(IGrainContextAccessor context) : ILocalGateway
{
    private readonly ConcurrentDictionary<string, FakeGateway> _gateways = new(StringComparer.Ordinal);

    public static FakeGatewayHost Of(InProcessSiloHandle silo) => (FakeGatewayHost)silo.ServiceProvider.GetRequiredService<ILocalGateway>();

    public void Add(FakeGateway gateway) => _gateways[gateway.Hub] = gateway;

    public string? Url => null;

    public void Deliver(Delivery delivery)
    {
        if (_gateways.TryGetValue(delivery.Hub, out var gateway))
        {
            gateway.Deliver(delivery, context.GrainContext?.GrainId);
        }
    }

    public void DeliverAll(IReadOnlyList<Delivery> deliveries)
    {
        if (deliveries.Count > 0 && _gateways.TryGetValue(deliveries[0].Hub, out var gateway))
        {
            gateway.Calls.Enqueue(deliveries.Count);
            foreach (var delivery in deliveries)
            {
                gateway.Deliver(delivery, context.GrainContext?.GrainId);
            }
        }
    }

    public IReadOnlyList<Member> Members(string hub, DeliveryTarget target, string key) =>
        _gateways.TryGetValue(hub, out var gateway) ? gateway.Members(target, key) : [];

    public GatewayGroupState GroupState(string hub, DeliveryTarget target, string key) =>
        _gateways.TryGetValue(hub, out var gateway) ? gateway.GroupState(target, key) : new([], null, []);

    public SessionInfo? Session(string hub, string connectionId) => _gateways.TryGetValue(hub, out var gateway) ? gateway.Session(connectionId) : null;

    public IReadOnlyList<SessionInfo> Sessions(string hub, IReadOnlyList<string> connectionIds) =>
        _gateways.TryGetValue(hub, out var gateway) ? gateway.Sessions(connectionIds) : [];

    public Task<bool> JoinRoom(string hub, string connectionId, string roomKey) => Task.FromResult(false);

    public Task<IReadOnlyList<JsonElement>> InvokeClients(string hub, IReadOnlyList<string> connectionIds, string method, JsonElement[] args, TimeSpan timeout) =>
        Task.FromResult(_gateways.TryGetValue(hub, out var gateway) ? gateway.InvokeClients(connectionIds, method) : []);

    public Task<int> Act(string hub, IReadOnlyList<string> connectionIds, ConnectionAction action) =>
        Task.FromResult(_gateways.TryGetValue(hub, out var gateway) ? gateway.Act(connectionIds, action) : 0);

    public Task<bool> LeaveRoom(string hub, string connectionId, string roomKey) => Task.FromResult(false);

    public Task<JsonElement> InvokeClient(string hub, string connectionId, string method, JsonElement[] args, TimeSpan timeout) =>
        _gateways.TryGetValue(hub, out var gateway) && gateway.AnswerOf(connectionId, method) is { } answer
            ? Task.FromResult(answer)
            : throw new InvalidOperationException($"No client {connectionId} here.");

    public bool Disconnect(string hub, string connectionId) => _gateways.TryGetValue(hub, out var gateway) && gateway.Do(connectionId, ConnectionActionKind.Disconnect);

    public string? Serving(string hub) => _gateways.TryGetValue(hub, out var gateway) ? gateway.GatewayId : null;

    public GatewayStats Stats(string hub, int maxRooms) => new(Serving(hub) ?? "none", 0, [], [], false);
}
