using Microsoft.Extensions.Options;
using Realtime.Contracts;
using Realtime.Grains.Gateways;
using Realtime.Gateway.Observability;

namespace Realtime.Gateway.Core;

/// <summary>
/// What this gateway sent to rooms, namespaces, users and the whole hub lately that their grains took, with where each
/// grain numbered it (<see cref="IMemberGroupGrain.Send"/>, <see cref="IGatewayRegistryGrain.Send"/>).
/// </summary>
/// <remarks>
/// <para>
/// A group's grain answers a send once it has handed a delivery for every gateway with members to Orleans, without
/// waiting for them: one message on each connection between its silo and the gateways. The answer and a delivery go
/// on different connections, so when the grain's silo dies at that moment (<c>kill -9</c>, a lost machine), the sender
/// can have its answer while a delivery to another gateway never left. The sender's gateway is then the only node
/// left that knows the message. It keeps it here, and a new activation of the group, which asks every gateway for its
/// state before it delivers anything (<see cref="IGatewayService.GroupState"/>), sends it again to the gateways that
/// did not apply it (<see cref="DeliveryKind.Resent"/>).
/// </para>
/// <para>
/// Kept: the last <see cref="GatewayOptions.KeepSent"/> messages of all groups together, none older than
/// <see cref="GatewayOptions.KeepSentFor"/> (time enough for a dead silo to be declared dead and its groups to come
/// back). When the membership declares a silo dead, each group with messages here is called once, so that one whose
/// grain lived there comes back, and sends again, while its messages are still kept. No library keeps such a log:
/// it is a bounded queue with an index by group, under one lock.
/// </para>
/// </remarks>
internal sealed class SentLog : IDisposable
{
    private const int WakeAttempts = 5;
    private static readonly TimeSpan WakeRetryDelay = TimeSpan.FromMilliseconds(500);

    private readonly Lock _lock = new();
    // Groups by their grain reference (references compare by grain id).
    private readonly Queue<(IGatewayDependentGrain Group, long At)> _order = new();
    private readonly Dictionary<IGatewayDependentGrain, Group> _groups = [];
    private readonly int _capacity;
    private readonly long _keepFor;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource? _membershipWatch;
    private int _droppedPlaces; // places in the order of messages dropped with an old epoch (see Add)

    private readonly Func<bool> _clusterSendsPositions;
    private readonly Func<bool> _clusterKeepsHubSends;

    public SentLog(
        IOptions<GatewayOptions> options,
        TimeProvider time,
        ILogger<SentLog> logger,
        PayloadForms? forms = null,
        IClusterMembershipService? membership = null,
        GatewayMetrics? metrics = null)
        : this(
            options,
            time,
            logger,
            forms is null ? static () => false : () => forms.EverySiloSendsPositions,
            membership,
            forms is null ? static () => false : () => forms.EverySiloKeepsHubSends)
    {
        metrics?.ObserveKeptSends(() => Count);
    }

    /// <summary>A log that asks <paramref name="clusterSendsPositions"/> whether to keep (see <see cref="PayloadForms.EverySiloSendsPositions"/>).</summary>
    /// <param name="options">The gateway's options: how many sends to keep, for how long.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">The log.</param>
    /// <param name="clusterSendsPositions">Whether every other silo answers sends with their position, and there is one.</param>
    /// <param name="membership">The membership, watched for dead silos; none in unit tests.</param>
    /// <param name="clusterKeepsHubSends">Whether every other silo answers sends to the whole hub with their position; <paramref name="clusterSendsPositions"/> when not given.</param>
    internal SentLog(
        IOptions<GatewayOptions> options,
        TimeProvider time,
        ILogger<SentLog> logger,
        Func<bool> clusterSendsPositions,
        IClusterMembershipService? membership = null,
        Func<bool>? clusterKeepsHubSends = null)
    {
        _clusterSendsPositions = clusterSendsPositions;
        _clusterKeepsHubSends = clusterKeepsHubSends ?? clusterSendsPositions;
        _capacity = options.Value.KeepSent;
        _keepFor = (long)(options.Value.KeepSentFor.TotalSeconds * time.TimestampFrequency);
        _time = time;
        _logger = logger;
        if (Enabled && membership is not null)
        {
            _membershipWatch = new CancellationTokenSource();
            _ = WatchAsync(membership, _membershipWatch.Token);
        }
    }

    /// <summary>False when the gateway keeps nothing (<see cref="GatewayOptions.KeepSent"/> or <see cref="GatewayOptions.KeepSentFor"/> 0).</summary>
    public bool Enabled => _capacity > 0 && _keepFor > 0;

    /// <summary>
    /// True when sends are kept now: <see cref="Enabled"/>, and the cluster has other silos, every one of which answers
    /// sends with their position. Otherwise a gateway sends with <see cref="IMemberGroupGrain.Publish"/>, as before.
    /// </summary>
    public bool Keeps => Enabled && _clusterSendsPositions();

    /// <summary>
    /// True when sends to the whole hub are kept now: <see cref="Enabled"/>, and every other silo answers them with
    /// their position (<see cref="PayloadForms.EverySiloKeepsHubSends"/>). Otherwise they go with
    /// <see cref="IGatewayRegistryGrain.Publish"/>, as before.
    /// </summary>
    public bool KeepsHubSends => Enabled && _clusterKeepsHubSends();

    /// <summary>How many messages are kept now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                Trim(_time.GetTimestamp());
                return _order.Count - _droppedPlaces;
            }
        }
    }

    /// <summary>
    /// Keeps the publications that <paramref name="group"/> took, numbered one after the other up to
    /// <paramref name="last"/>. A group numbering in a new epoch (it came back) drops what is kept of the old one: its
    /// new activation asked for it before it numbered anything.
    /// </summary>
    public void Add(IGatewayDependentGrain group, GroupPosition last, IReadOnlyList<Publication> publications)
    {
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            if (!_groups.TryGetValue(group, out var kept))
            {
                kept = new Group();
                _groups.Add(group, kept);
            }
            else if (kept.Messages.TryPeek(out var oldest) && oldest.At.Epoch != last.Epoch)
            {
                // Their places in the order stay until they come out at its head, and then take nothing.
                kept.Dropped += kept.Messages.Count;
                _droppedPlaces += kept.Messages.Count;
                kept.Messages.Clear();
            }

            var first = last.Sequence - publications.Count + 1;
            for (var i = 0; i < publications.Count; i++)
            {
                kept.Messages.Enqueue(new SentMessage(new GroupPosition(last.Epoch, first + i), publications[i]));
                _order.Enqueue((group, now));
            }

            Trim(now);
        }
    }

    /// <summary>What is kept for a group, oldest first.</summary>
    public IReadOnlyList<SentMessage> Of(IGatewayDependentGrain group)
    {
        lock (_lock)
        {
            Trim(_time.GetTimestamp());
            return _groups.TryGetValue(group, out var kept) ? [.. kept.Messages] : [];
        }
    }

    /// <summary>The groups with messages kept now.</summary>
    public List<IGatewayDependentGrain> Groups()
    {
        lock (_lock)
        {
            Trim(_time.GetTimestamp());
            return [.. _groups.Keys];
        }
    }

    /// <summary>Drops the oldest messages beyond the capacity and those older than they are kept for.</summary>
    private void Trim(long now)
    {
        while (_order.TryPeek(out var oldest) && (_order.Count > _capacity || now - oldest.At > _keepFor))
        {
            _order.Dequeue();
            var kept = _groups[oldest.Group];
            if (kept.Dropped > 0)
            {
                kept.Dropped--;
                _droppedPlaces--;
            }
            else
            {
                kept.Messages.Dequeue();
            }

            if (kept.Messages.Count == 0 && kept.Dropped == 0)
            {
                _groups.Remove(oldest.Group);
            }
        }
    }

    /// <summary>Calls every group with messages kept whenever a silo is declared dead (see the remarks).</summary>
    private async Task WatchAsync(IClusterMembershipService membership, CancellationToken stop)
    {
        var dead = new HashSet<SiloAddress>();
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stop))
            {
                var died = false;
                foreach (var (silo, member) in snapshot.Members)
                {
                    died |= member.Status == SiloStatus.Dead && dead.Add(silo);
                }

                if (died)
                {
                    // Not waited for: a call retried while the cluster settles one death must not hold up the groups
                    // of the next (each call logs its own failure, and gives up after a few tries).
                    var groups = Groups();
                    GatewayLog.WakingSentGroups(_logger, groups.Count);
                    _ = Task.WhenAll(groups.Select(WakeAsync));
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Calls the group; a call that meets the cluster still settling the death is made again, a few times.</summary>
    private async Task WakeAsync(IGatewayDependentGrain group)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await (group switch
                {
                    IGatewayRegistryGrain hub => hub.Gateways(),
                    IMemberGroupGrain members => members.MemberCount(),
                    _ => Task.CompletedTask,
                });
                return;
            }
            catch (Exception ex) when (attempt < WakeAttempts)
            {
                GatewayLog.WakingSentGroupRetried(_logger, group.ToString() ?? "", attempt, ex);
                await Task.Delay(WakeRetryDelay, _time);
            }
            catch (Exception ex)
            {
                GatewayLog.WakingSentGroupFailed(_logger, group.ToString() ?? "", ex);
                return;
            }
        }
    }

    public void Dispose()
    {
        _membershipWatch?.Cancel();
        _membershipWatch?.Dispose();
    }

    private sealed class Group
    {
        public Queue<SentMessage> Messages { get; } = new();

        /// <summary>Places in the order of messages dropped with an old epoch, still to come out at its head.</summary>
        public int Dropped { get; set; }
    }
}
