using Realtime.Contracts;

namespace Realtime.Gateway.Core;

/// <summary>
/// Puts what one group (a room, namespace, user, the hub, or one connection's session) sends this gateway back in
/// the order the group sent it. Orleans does not promise that one-way calls arrive in the order they were made (a
/// route looked up for the first calls, or several gateway silos on the way, can swap them), so each delivery carries
/// its chain and position (see <see cref="Delivery.Chain"/>): one that comes early waits for those before it, for at
/// most <see cref="GapTimeout"/>. Then the messages missing are fetched from the group's history
/// (<paramref name="fill"/>; a delivery that was in flight when its silo died never comes) and applied in their place,
/// in order; what the history no longer holds counts as lost, and the rest go on. One of the lost that comes after
/// all is applied when it comes; a position that was applied (or filled) already is a duplicate, and is dropped.
/// Thread-safe.
/// </summary>
/// <param name="apply">Applies a delivery, in its turn.</param>
/// <param name="time">The clock of the gap timeout.</param>
/// <param name="fill">
/// Given the first delivery after a gap and the sequence number of the last one applied before it, the messages in
/// between from the group's history, or null when the history cannot give all of them. Null when the group keeps none.
/// </param>
/// <param name="lost">
/// Told of each run given up: the first delivery after it, how many positions it had, and the sequence number of the
/// last delivery applied before it (-1 when unknown): the messages numbered after that and before the next were lost.
/// </param>
internal sealed partial class DeliveryOrder(
    Action<Delivery> apply, Action<Delivery, long, long> lost, TimeProvider time, Func<Delivery, long, Task<IReadOnlyList<Delivery>?>>? fill = null)
{
    /// <summary>How long a delivery waits for the ones before it in its chain.</summary>
    public static readonly TimeSpan GapTimeout = TimeSpan.FromMilliseconds(500);

    /// <summary>How many runs of positions given up as lost are remembered, to tell a late one from a duplicate.</summary>
    internal const int RememberedGaps = 16;

    private readonly Lock _lock = new();
    private readonly long[] _retired = new long[4];
    private long _chain;
    private long _next;
    private SortedList<long, Delivery>? _early;
    private List<(long From, long To)>? _gaps;
    private ITimer? _gapTimer;
    private bool _gapTimerArmed;
    private int _retiredCount;

    // The sequence number of the last delivery applied in this chain (-1 before the first), where a fill starts; and
    // whether a fill is on its way.
    private long _lastSequence = -1;
    private bool _filling;

    // The last message applied, by the numbering of its epoch (across chains), or where the group stood when the
    // first member here joined; and the last one sent again (a Resent), so that its late original is known as a duplicate.
    private string? _appliedEpoch;
    private long _appliedSequence;
    private string? _resentEpoch;
    private long _resentUpTo;

    // What the previous chain left waiting behind a gap when a new one started (its group came back): applied, in their
    // order, once the new activation's messages sent again (Resent) reach them, or before the new chain's first other
    // delivery, with what is still missing then named as lost.
    private List<Delivery>? _stranded;

    /// <summary>
    /// The last message applied (its epoch and sequence number), or the position given to <see cref="Seed"/>; null
    /// before either. How a group's new activation learns what this gateway still misses of its previous one.
    /// </summary>
    public GroupPosition? Applied
    {
        get
        {
            lock (_lock)
            {
                return _appliedEpoch is null ? null : new GroupPosition(_appliedEpoch, _appliedSequence);
            }
        }
    }

    /// <summary>Where the group stood when a member here joined it; taken only before any message was applied.</summary>
    public void Seed(GroupPosition position)
    {
        lock (_lock)
        {
            if (_appliedEpoch is null)
            {
                (_appliedEpoch, _appliedSequence) = (position.Epoch, position.Sequence);
            }
        }
    }

    /// <summary>Applies the delivery when its turn has come, and every waiting one whose turn it brings.</summary>
    public void Accept(Delivery delivery)
    {
        lock (_lock)
        {
            if (delivery.Chain == 0 || IsRetired(delivery.Chain))
            {
                // Not ordered: no chain, or one that ended. A message sent again by the group's next activation came
                // first, and this is its late original.
                if (delivery.Epoch is { } epoch && epoch == _resentEpoch && delivery.Sequence <= _resentUpTo)
                {
                    return;
                }

                if (_stranded is not null && delivery.Kind == DeliveryKind.Message && delivery.Epoch == _appliedEpoch)
                {
                    // The late original of one that the old chain's waiting messages wait for: in its place, once, as
                    // one sent again would be.
                    Apply(delivery with { Kind = DeliveryKind.Resent });
                    return;
                }

                apply(delivery);
                return;
            }

            if (delivery.Chain != _chain)
            {
                StartChain(delivery.Chain);
            }

            if (delivery.Position < _next)
            {
                // Its successors went on without it: late, but not lost. Any other position before the next was
                // applied already.
                if (TakeFromGap(delivery.Position))
                {
                    Apply(delivery);
                }

                return;
            }

            if (delivery.Position > _next)
            {
                (_early ??= []).TryAdd(delivery.Position, delivery);
                ArmGapTimer();
                return;
            }

            Apply(delivery);
            _next++;
            ApplyWaiting();
        }
    }

    private void StartChain(long chain)
    {
        // A new activation of the group, or the first member here since the gateway had none: what still waits for
        // the old chain goes first, in order. Numbered messages wait for what the new activation sends again of the
        // gap before them (see _stranded); others go now, and the gap before them is named as lost (what of it still
        // comes, on the retired chain, is applied when it comes).
        FlushStranded();
        if (_early is { Count: > 0 } early)
        {
            if (early.Values[0].Epoch is not null)
            {
                _stranded = [.. early.Values];
            }
            else
            {
                lost(early.Values[0], early.Keys[^1] - _next + 1 - early.Count, _lastSequence);
                foreach (var (_, waiting) in early)
                {
                    ApplyInTurn(waiting);
                }
            }

            early.Clear();
        }

        if (_chain != 0)
        {
            _retired[_retiredCount++ % _retired.Length] = _chain;
        }

        _chain = chain;
        _next = 1;
        _lastSequence = -1;
        _gaps?.Clear();
    }

    private void Apply(Delivery delivery)
    {
        if (delivery.Kind == DeliveryKind.Resent)
        {
            // Sent again in their order: what waits of the previous chain numbered before this one goes first.
            if (delivery.Epoch == _appliedEpoch)
            {
                FlushStranded(before: delivery.Sequence);
            }

            ApplyResent(delivery);
            ApplyStrandedInTurn();
            return;
        }

        FlushStranded();
        ApplyInTurn(delivery);
    }

    /// <summary>Applies a delivery whose turn has come (not one sent again).</summary>
    private void ApplyInTurn(Delivery delivery, bool ofThisChain = true)
    {
        if (delivery.Kind == DeliveryKind.Started)
        {
            // A new activation's epoch, before its first message: nothing to apply, only where the group stands.
            if (delivery.Epoch is { } started && started != _appliedEpoch)
            {
                (_appliedEpoch, _appliedSequence) = (started, delivery.Sequence);
            }

            return;
        }

        apply(delivery);
        if (ofThisChain)
        {
            _lastSequence = Math.Max(_lastSequence, delivery.Sequence);
        }

        if (delivery is { Kind: DeliveryKind.Message, Epoch: { } epoch })
        {
            if (epoch == _appliedEpoch)
            {
                _appliedSequence = Math.Max(_appliedSequence, delivery.Sequence);
            }
            else
            {
                (_appliedEpoch, _appliedSequence) = (epoch, delivery.Sequence);
            }
        }
    }

    /// <summary>
    /// A message of the group's previous activation, sent again by its new one: applied when it comes after the last
    /// message of that epoch applied here, dropped when this gateway has it (or follows another epoch now). Messages
    /// numbered between that nobody kept count as lost.
    /// </summary>
    private void ApplyResent(Delivery delivery)
    {
        if (delivery.Epoch is not { } epoch || epoch != _appliedEpoch || delivery.Sequence <= _appliedSequence)
        {
            return;
        }

        var message = delivery with { Kind = DeliveryKind.Message };
        if (delivery.Sequence > _appliedSequence + 1)
        {
            lost(message, delivery.Sequence - _appliedSequence - 1, _appliedSequence);
        }

        apply(message);
        _appliedSequence = delivery.Sequence;
        (_resentEpoch, _resentUpTo) = (epoch, delivery.Sequence);
    }

    /// <summary>
    /// Applies what the previous chain left waiting as far as the messages sent again have reached: those numbered up
    /// to the last one applied are had already, the next one goes, and so on.
    /// </summary>
    private void ApplyStrandedInTurn()
    {
        while (_stranded is { Count: > 0 } stranded)
        {
            var waiting = stranded[0];
            var reached = waiting.Epoch == _appliedEpoch && waiting.Sequence <= _appliedSequence;
            var next = waiting.Kind == DeliveryKind.Message && waiting.Epoch == _appliedEpoch && waiting.Sequence == _appliedSequence + 1;
            if (!reached && !next)
            {
                return;
            }

            // A message reached already was sent again: dropped. A notice reached, or the next message, goes now.
            stranded.RemoveAt(0);
            if (next || waiting.Kind != DeliveryKind.Message)
            {
                ApplyInTurn(waiting, ofThisChain: false);
            }
        }

        _stranded = null;
    }

    /// <summary>
    /// Applies what the previous chain left waiting, in its order, before anything else of the new chain (or, given
    /// <paramref name="before"/>, those numbered before it in the epoch applied here): a message had already (sent
    /// again) is dropped, and the messages still missing before one are named as lost.
    /// </summary>
    private void FlushStranded(long before = long.MaxValue)
    {
        if (_stranded is not { } stranded)
        {
            return;
        }

        var done = 0;
        for (; done < stranded.Count; done++)
        {
            var waiting = stranded[done];
            if (waiting.Epoch == _appliedEpoch && waiting.Sequence >= before)
            {
                break;
            }

            if (waiting.Kind == DeliveryKind.Message && waiting.Epoch == _appliedEpoch)
            {
                if (waiting.Sequence <= _appliedSequence)
                {
                    continue;
                }

                if (waiting.Sequence > _appliedSequence + 1)
                {
                    lost(waiting, waiting.Sequence - _appliedSequence - 1, _appliedSequence);
                }
            }

            ApplyInTurn(waiting, ofThisChain: false);
        }

        stranded.RemoveRange(0, done);
        if (stranded.Count == 0)
        {
            _stranded = null;
        }
    }

    private bool IsRetired(long chain)
    {
        foreach (var retired in _retired)
        {
            if (retired == chain)
            {
                return true;
            }
        }

        return false;
    }

    private void ApplyWaiting()
    {
        while (_early is { Count: > 0 } early && early.Keys[0] == _next)
        {
            Apply(early.Values[0]);
            early.RemoveAt(0);
            _next++;
        }

        if (_early is not { Count: > 0 } && _gapTimerArmed)
        {
            _gapTimerArmed = false;
            _gapTimer!.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }
}
