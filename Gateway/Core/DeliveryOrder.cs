using Realtime.Contracts;

namespace Realtime.Gateway.Core;

/// <summary>
/// Puts what one group (a room, namespace, user, the hub, or one connection's session) sends this gateway back in
/// the order the group sent it. Orleans does not promise that one-way calls arrive in the order they were made (a
/// route looked up for the first calls, or several gateway silos on the way, can swap them), so each delivery carries
/// its chain and position (see <see cref="Delivery.Chain"/>): one that comes early waits for those before it, for at
/// most <see cref="GapTimeout"/>, after which the ones missing count as lost and the rest go on. One of those that
/// comes after all is applied when it comes; a position that was applied already is a duplicate, and is dropped.
/// Thread-safe.
/// </summary>
internal sealed class DeliveryOrder(Action<Delivery> apply, Action<Delivery, long> lost, TimeProvider time)
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

    /// <summary>Applies the delivery when its turn has come, and every waiting one whose turn it brings.</summary>
    public void Accept(Delivery delivery)
    {
        lock (_lock)
        {
            if (delivery.Chain == 0 || IsRetired(delivery.Chain))
            {
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
                    apply(delivery);
                }

                return;
            }

            if (delivery.Position > _next)
            {
                (_early ??= []).TryAdd(delivery.Position, delivery);
                ArmGapTimer();
                return;
            }

            apply(delivery);
            _next++;
            ApplyWaiting();
        }
    }

    private void StartChain(long chain)
    {
        // A new activation of the group, or the first member here since the gateway had none: what still waits for
        // the old chain goes first, in order.
        if (_early is { Count: > 0 } early)
        {
            foreach (var (_, waiting) in early)
            {
                apply(waiting);
            }

            early.Clear();
        }

        if (_chain != 0)
        {
            _retired[_retiredCount++ % _retired.Length] = _chain;
        }

        _chain = chain;
        _next = 1;
        _gaps?.Clear();
    }

    /// <summary>Whether the position was given up as lost (and is no longer): a late delivery rather than a duplicate.</summary>
    private bool TakeFromGap(long position)
    {
        if (_gaps is not { } gaps)
        {
            return false;
        }

        for (var i = 0; i < gaps.Count; i++)
        {
            var (from, to) = gaps[i];
            if (position < from || position > to)
            {
                continue;
            }

            // What is left of the run keeps its place (oldest first).
            gaps.RemoveAt(i);
            if (position < to)
            {
                gaps.Insert(i, (position + 1, to));
            }

            if (from < position)
            {
                gaps.Insert(i, (from, position - 1));
            }

            return true;
        }

        return false;
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
            apply(early.Values[0]);
            early.RemoveAt(0);
            _next++;
        }

        if (_early is not { Count: > 0 } && _gapTimerArmed)
        {
            _gapTimerArmed = false;
            _gapTimer!.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Starts the wait of the first delivery that came early; later ones wait no longer than it.</summary>
    private void ArmGapTimer()
    {
        if (_gapTimerArmed)
        {
            return;
        }

        _gapTimerArmed = true;
        _gapTimer ??= time.CreateTimer(static state => ((DeliveryOrder)state!).GapTimedOut(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _gapTimer.Change(GapTimeout, Timeout.InfiniteTimeSpan);
    }

    private void GapTimedOut()
    {
        lock (_lock)
        {
            _gapTimerArmed = false;
            if (_early is not { Count: > 0 } early)
            {
                return;
            }

            var first = early.Keys[0];
            lost(early.Values[0], first - _next);
            _gaps ??= [];
            if (_gaps.Count == RememberedGaps)
            {
                // The oldest run is forgotten: anything of it that still comes is taken for a duplicate.
                _gaps.RemoveAt(0);
            }

            _gaps.Add((_next, first - 1));
            _next = first;
            ApplyWaiting();
            if (_early is { Count: > 0 })
            {
                ArmGapTimer();
            }
        }
    }
}
