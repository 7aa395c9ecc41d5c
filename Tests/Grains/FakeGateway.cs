using System.Collections.Concurrent;
using System.Text.Json;
using Realtime.Grains;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Grains;

/// <summary>
/// A gateway as grains see it, for grain tests: a real Orleans observer of the test cluster's client that holds its
/// own members (so grains rebuilding themselves can ask it), records every delivery, and holds a lease in the hub's
/// registry while <see cref="StartRenewing"/> runs.
/// </summary>
public sealed class FakeGateway : IGatewayObserver, IAsyncDisposable
{
    private readonly ConcurrentDictionary<(DeliveryTarget, string), ConcurrentDictionary<string, Member>> _members = new();
    private readonly ConcurrentQueue<Delivery> _deliveries = new();
    private readonly ConcurrentQueue<(DeliveryTarget Target, string Key)> _queries = new();
    private readonly IGrainFactory _grains;
    private readonly CancellationTokenSource _stopRenewing = new();
    private Task _renewing = Task.CompletedTask;
    private int _probes;

    public FakeGateway(IGrainFactory grains, string hub, string name)
    {
        _grains = grains;
        Hub = hub;
        GatewayId = $"{name}@{Guid.NewGuid():N}";
        Reference = grains.CreateObjectReference<IGatewayObserver>(this);
    }

    public string Hub { get; }

    public string GatewayId { get; }

    public IGatewayObserver Reference { get; }

    public IReadOnlyCollection<Delivery> Deliveries => _deliveries;

    public IHubGrain HubGrain => _grains.GetGrain<IHubGrain>(Hub);

    /// <summary>Takes the lease, and renews it every <paramref name="period"/> until <see cref="StopRenewing"/>.</summary>
    public async Task StartRenewing(TimeSpan period)
    {
        Assert.Equal(LeaseStatus.Held, await HubGrain.RenewLease(new GatewayRegistration(GatewayId, Reference, null)).Within("the lease"));
        _renewing = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(period);
            try
            {
                while (await timer.WaitForNextTickAsync(_stopRenewing.Token))
                {
                    try
                    {
                        await HubGrain.RenewLease(new GatewayRegistration(GatewayId, Reference, null));
                    }
                    catch (Exception ex) when (ex is OrleansException or TimeoutException)
                    {
                        // A silo went away under the renewal; the next one goes elsewhere.
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    /// <summary>Stops renewing the lease, as a gateway that died or was cut off.</summary>
    public async Task StopRenewing()
    {
        await _stopRenewing.CancelAsync();
        await _renewing.Within("the renewals to stop");
    }

    /// <summary>A connection of this gateway joins a room, as a gateway does it: its own record first, then the grain's.</summary>
    public async Task<Member> JoinAsync(string roomKey, string connectionId)
    {
        var member = new Member(connectionId, GatewayId, null);
        Local(DeliveryTarget.Room, roomKey)[connectionId] = member;
        await _grains.GetGrain<IRoomGrain>(roomKey).Join(member, Reference).Within($"{connectionId} to join");
        return member;
    }

    /// <summary>The messages this gateway got for a group, in the order its chain says, as the real gateway applies them.</summary>
    public long[] SequencesOf(DeliveryTarget target, string key) =>
        _deliveries.Where(d => d.Target == target && d.Key == key && d.Kind == DeliveryKind.Message)
            .GroupBy(d => d.Chain)
            .SelectMany(chain => chain.OrderBy(d => d.Position))
            .Select(d => d.Sequence)
            .ToArray();

    public Task Deliver(Delivery delivery)
    {
        _deliveries.Enqueue(delivery);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<Member>> Members(string hub, DeliveryTarget target, string key)
    {
        _queries.Enqueue((target, key));
        return Task.FromResult<IReadOnlyList<Member>>(_members.TryGetValue((target, key), out var members) ? [.. members.Values] : []);
    }

    /// <summary>The groups that asked this gateway for its members (being activated) since <see cref="ClearQueries"/>.</summary>
    public string[] QueriedKeys(DeliveryTarget target) => _queries.Where(q => q.Target == target).Select(q => q.Key).Distinct().ToArray();

    public void ClearQueries() => _queries.Clear();

    public Task<SessionInfo?> Session(string hub, string connectionId) => Task.FromResult<SessionInfo?>(null);

    public Task<bool> JoinRoom(string hub, string connectionId, string roomKey) => Task.FromResult(false);

    public Task<bool> LeaveRoom(string hub, string connectionId, string roomKey) => Task.FromResult(false);

    public Task<JsonElement> InvokeClient(string hub, string connectionId, string method, JsonElement[] args, TimeSpan timeout) =>
        throw new InvalidOperationException("No clients here.");

    public Task<bool> Disconnect(string hub, string connectionId) => Task.FromResult(false);

    /// <summary>
    /// Whether this gateway, once it stopped renewing, still answers a hub's probe (its renewals are lost on the way)
    /// rather than going dark (it died).
    /// </summary>
    public bool AnswersWhenSilent { get; set; }

    /// <summary>How many times a hub asked this gateway whether it still serves it.</summary>
    public int Probes => _probes;

    public Task<GatewayStats> Stats(string hub, int maxRooms) => Task.FromResult(new GatewayStats("fake", 0, [], [], false));

    public Task<bool> Serves(string hub)
    {
        Interlocked.Increment(ref _probes);
        return Task.FromResult(!_stopRenewing.IsCancellationRequested || AnswersWhenSilent);
    }

    public async ValueTask DisposeAsync()
    {
        await StopRenewing();
        await HubGrain.Leave(GatewayId).Within("the gateway to leave");
        _grains.DeleteObjectReference<IGatewayObserver>(Reference);
    }

    private ConcurrentDictionary<string, Member> Local(DeliveryTarget target, string key) =>
        _members.GetOrAdd((target, key), static _ => new(StringComparer.Ordinal));
}
