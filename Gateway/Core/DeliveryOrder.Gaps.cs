using Realtime.Contracts;

namespace Realtime.Gateway.Core;

/// <summary>
/// What a gap in a chain costs: the wait of the deliveries that came early, at most <see cref="GapTimeout"/>, then the
/// missing messages read from the group's history in their place, or given up as lost; and the runs given up, to tell a
/// late one from a duplicate.
/// </summary>
internal sealed partial class DeliveryOrder
{
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
            if (_early is not { Count: > 0 } early || _filling)
            {
                return;
            }

            // The messages missing are those numbered after the last one applied and before the next (a notice, which
            // history does not keep, carries the number of the message before it).
            var next = early.Values[0];
            var upTo = next.Kind == DeliveryKind.Message ? next.Sequence - 1 : next.Sequence;
            if (fill is not null && _lastSequence >= 0 && upTo > _lastSequence)
            {
                _filling = true;
                _ = FillAsync(next, _chain, _next, _lastSequence, upTo);
                return;
            }

            GiveUp();
        }
    }

    /// <summary>Fetches what the gap misses from the group's history and applies it in its place; gives it up when the history cannot.</summary>
    private async Task FillAsync(Delivery next, long chain, long gapStart, long after, long upTo)
    {
        IReadOnlyList<Delivery>? found;
        try
        {
            found = await fill!(next, after);
        }
        catch (Exception)
        {
            found = null; // the cluster could not answer: as if the history could not
        }

        lock (_lock)
        {
            _filling = false;
            if (_chain != chain || _next != gapStart || _early is not { Count: > 0 } early || early.Values[0] != next)
            {
                // Meanwhile the group started a new chain, or some of the missing came late: look again.
                if (_early is { Count: > 0 })
                {
                    ArmGapTimer();
                }

                return;
            }

            var gap = early.Keys[0] - _next;
            var messages = found?.Where(d => d.Sequence > after && d.Sequence <= upTo).OrderBy(d => d.Sequence).ToList();
            if (messages is null || messages.Count != upTo - after || messages.Count > gap)
            {
                GiveUp();
                return;
            }

            foreach (var message in messages)
            {
                Apply(message);
            }

            if (gap > messages.Count)
            {
                // The rest of the gap were notices (a member left), which history does not keep.
                lost(next, gap - messages.Count, _lastSequence);
            }

            // The gap is filled: any of it that still comes is a duplicate.
            GoOnFrom(early.Keys[0]);
        }
    }

    /// <summary>Gives up the positions before the first waiting delivery as lost, and goes on from it.</summary>
    private void GiveUp()
    {
        var early = _early!;
        var first = early.Keys[0];
        lost(early.Values[0], first - _next, _lastSequence);
        _gaps ??= [];
        if (_gaps.Count == RememberedGaps)
        {
            // The oldest run is forgotten: anything of it that still comes is taken for a duplicate.
            _gaps.RemoveAt(0);
        }

        _gaps.Add((_next, first - 1));
        GoOnFrom(first);
    }

    /// <summary>Goes on from <paramref name="position"/>, past a gap: what waits from there is applied, and the next gap waits its turn.</summary>
    private void GoOnFrom(long position)
    {
        _next = position;
        ApplyWaiting();
        if (_early is { Count: > 0 })
        {
            ArmGapTimer();
        }
    }
}
