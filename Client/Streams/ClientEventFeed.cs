using Realtime.Contracts;

namespace Realtime.Client.Streams;

/// <summary>
/// What a consumer of a namespace's client events (<see cref="RealtimeStreams.ClientEventsOf"/>) hands each event to,
/// so that it gets every room's events once and in order, without a silent gap. Orleans' memory streams keep their
/// queues on silos: an event on its way when a silo dies is lost with it, though its send succeeded. Each event carries
/// its room's sequence number and epoch (<see cref="ClientEvent.Epoch"/>); when one comes after a jump, the feed asks
/// the room (or, for a broadcast, the namespace) for the messages in between, and hands over the client events among
/// them first, in order. Only when the group's history no longer holds them is the consumer told which room lost
/// which numbers (<paramref name="lost"/>); a service's messages, which the stream does not carry, are not client
/// events and are passed over. An event that comes again (a subscription made again) is dropped.
/// </summary>
/// <remarks>
/// A loss is seen when the room's next event comes; the last events of a room that then falls silent are not, nor
/// those before the first event of a room that the feed got (it does not know where the room stood). A room
/// whose silo died starts a new epoch, numbered from 1: the events of the new epoch before the first one the feed gets
/// are filled from its history as any other, but what the old epoch's tail lost is not seen (its history died with
/// it).
/// </remarks>
/// <param name="grains">The cluster, to ask a room's history.</param>
/// <param name="deliver">The consumer: each event, once, in its room's order.</param>
/// <param name="lost">Told of each run of events that the stream lost and the history no longer holds.</param>
public sealed class ClientEventFeed(IGrainFactory grains, Func<ClientEvent, Task> deliver, Func<ClientEventGap, Task>? lost = null)
{
    private readonly Dictionary<string, (string Epoch, long Sequence)> _last = new(StringComparer.Ordinal);

    // Where each room stood in the epochs it has left (one entry per restart of a room), for their late events.
    private readonly Dictionary<(string Key, string Epoch), long> _left = [];
    private readonly SemaphoreSlim _turn = new(1, 1);

    /// <summary>Takes the next event of the stream (the stream's handler); completes when it and any it missed before it were delivered.</summary>
    public async Task OnNextAsync(ClientEvent clientEvent)
    {
        ArgumentNullException.ThrowIfNull(clientEvent);
        await _turn.WaitAsync();
        try
        {
            if (clientEvent.Epoch is not { } epoch)
            {
                await deliver(clientEvent); // from a cluster that does not number its events by epoch
                return;
            }

            var key = clientEvent.Room is { } room
                ? GrainKeys.Room(clientEvent.Hub, clientEvent.Namespace, room)
                : GrainKeys.Namespace(clientEvent.Hub, clientEvent.Namespace);
            if (_last.TryGetValue(key, out var last) && last.Epoch == epoch)
            {
                if (clientEvent.Sequence <= last.Sequence)
                {
                    return; // had it already
                }

                if (clientEvent.Sequence > last.Sequence + 1)
                {
                    await FillAsync(key, clientEvent, last.Sequence);
                }
            }
            else if (_left.TryGetValue((key, epoch), out var leftAt))
            {
                // A late event of an epoch the room has left: delivered unless had already, and nothing filled.
                if (clientEvent.Sequence > leftAt)
                {
                    _left[(key, epoch)] = clientEvent.Sequence;
                    await deliver(clientEvent);
                }

                return;
            }
            else if (_last.ContainsKey(key))
            {
                // The room started again (its silo died, or it was collected while idle) and numbers from 1: its new
                // epoch's events before this one were lost on the way.
                _left[(key, last.Epoch)] = last.Sequence;
                if (clientEvent.Sequence > 1)
                {
                    await FillAsync(key, clientEvent, 0);
                }
            }

            await deliver(clientEvent);
            _last[key] = (epoch, clientEvent.Sequence);
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>Delivers the client events numbered between <paramref name="after"/> and <paramref name="next"/> from the group's history, or reports them lost.</summary>
    private async Task FillAsync(string key, ClientEvent next, long after)
    {
        Replay? replay = null;
        try
        {
            replay = next.Room is null
                ? await grains.GetGrain<INamespaceGrain>(key).Since(next.Epoch!, after)
                : await grains.GetGrain<IRoomGrain>(key).Since(next.Epoch!, after);
        }
        catch (Exception ex) when (ClusterFailure.Is(ex))
        {
            // The cluster cannot say right now: reported as lost, rather than hold every later event up.
        }

        var between = replay is { Complete: true } && replay.Epoch == next.Epoch
            ? replay.Messages.Where(m => m.Sequence > after && m.Sequence < next.Sequence).OrderBy(m => m.Sequence).ToList()
            : null;
        if (between is null || between.Count != next.Sequence - after - 1)
        {
            if (lost is not null)
            {
                await lost(new ClientEventGap(next.Hub, next.Namespace, next.Room, next.Epoch!, after + 1, next.Sequence - 1));
            }

            return;
        }

        foreach (var entry in between)
        {
            if (entry.Source is { } source)
            {
                await deliver(new ClientEvent(next.Hub, source.Namespace, next.Room, source.Sender, entry.Sequence, source.Event, source.Data, entry.Time, next.Epoch));
            }
        }
    }
}

/// <summary>
/// Events of a room (or, with <see cref="Room"/> null, broadcasts of a namespace) that the stream lost and the group's
/// history no longer holds: numbered <see cref="From"/> to <see cref="To"/> in <see cref="Epoch"/>. Some of those
/// numbers may have been a service's messages rather than client events.
/// </summary>
public sealed record ClientEventGap(string Hub, string Namespace, string? Room, string Epoch, long From, long To);
