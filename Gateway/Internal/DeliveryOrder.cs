using Realtime.Grains;

namespace Realtime.Gateway.Internal;

/// <summary>
/// Puts what one group (a room, namespace, user, the hub, or one connection's session) sends this gateway back in
/// the order the group sent it. Orleans does not promise that one-way calls arrive in the order they were made (a
/// route looked up for the first calls, or several gateway silos on the way, can swap them), so each delivery carries
/// its chain and position (see <see cref="Delivery.Chain"/>): one that comes early waits for those before it, for at
/// most <see cref="GapTimeout"/>, after which the ones missing count as lost and the rest go on. One that comes after
/// its successors went on is applied when it comes. Thread-safe.
/// </summary>
internal sealed class DeliveryOrder(Action<Delivery> apply, Action<Delivery, long> lost)
{
    /// <summary>How long a delivery waits for the ones before it in its chain.</summary>
    public static readonly TimeSpan GapTimeout = TimeSpan.FromMilliseconds(500);

    private readonly Lock _lock = new();
    private readonly long[] _retired = new long[4];
    private long _chain;
    private long _next;
    private SortedList<long, Delivery>? _early;
    private Timer? _gapTimer;
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
                // Its successors went on without it: late, but not lost.
                apply(delivery);
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
            _gapTimer!.Change(Timeout.Infinite, Timeout.Infinite);
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
        _gapTimer ??= new Timer(static state => ((DeliveryOrder)state!).GapTimedOut(), this, Timeout.Infinite, Timeout.Infinite);
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
            _next = first;
            ApplyWaiting();
            if (_early is { Count: > 0 })
            {
                ArmGapTimer();
            }
        }
    }
}
