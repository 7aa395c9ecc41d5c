using Realtime.Contracts;

namespace Realtime.Gateway.Core;

/// <summary>
/// socket.io connection state recovery: a client that reconnects, to any gateway, within its window, presents its
/// session's secret and the offset of the last event it received; the connection comes back under its old id, in its
/// rooms, with its data, and gets every message it missed from each stream's history, in order, then the live flow.
/// Either every stream's history holds what the client missed, or nothing is recovered and the client starts afresh:
/// never a silent gap.
/// </summary>
public sealed partial class LocalHub<THub>
{
    /// <summary>The epoch a recovery offset names before the connection received anything from its session.</summary>
    internal const string SessionStart = "000000000000";

    /// <summary>Takes a recoverable session with its secret; null when it cannot be recovered.</summary>
    internal Task<SessionRecovery?> ClaimRecoveryAsync(string connectionId, string token, string? userId) =>
        Session(connectionId).Recover(token, userId, GatewayId);

    /// <summary>Gives up a session claimed for a recovery that will not happen: it is forgotten.</summary>
    internal Task ForgoRecoveryAsync(string connectionId) => Session(connectionId).Close(GatewayId, keepForResume: false);

    /// <summary>
    /// Where each stream of a claimed session is taken up again, given where the client is: in the messages to it alone
    /// (<paramref name="own"/>) and in its namespace and rooms (<paramref name="clientAt"/>, by grain key). Null when
    /// some stream's history no longer holds everything the client missed, or the client does not say where it is in
    /// one of them.
    /// </summary>
    internal async Task<RecoveryPlan?> PlanRecoveryAsync(string connectionId, string @namespace, SessionRecovery recovery, GroupPosition own, Func<string, GroupPosition?> clientAt)
    {
        if (recovery.Session.Hub != HubName || recovery.Session.Namespace != @namespace)
        {
            return null;
        }

        var streams = new List<RecoveryStream>();
        var namespaceKey = GrainKeys.Namespace(HubName, @namespace);
        if (clientAt(namespaceKey) is not { } inNamespace)
        {
            return null;
        }

        streams.Add(new RecoveryStream(namespaceKey, DeliveryTarget.Namespace, inNamespace));
        foreach (var roomKey in recovery.Session.Rooms)
        {
            // Where the client is in the room: its last message from it, or, if it got none since it joined, where the
            // room stood then. Of two positions of one activation, the later.
            var received = clientAt(roomKey);
            var joined = recovery.Joins.FirstOrDefault(j => j.RoomKey == roomKey)?.Position;
            GroupPosition? from = (received, joined) switch
            {
                ({ } r, { } j) when r.Epoch == j.Epoch => r.Sequence >= j.Sequence ? r : j,
                ({ } r, _) => r,
                (null, { } j) => j,
                _ => null,
            };
            if (from is null)
            {
                return null;
            }

            // A room that came back after its silo died has a new epoch: a join in the new one is the one that counts.
            if (received is not null && joined is not null && received.Epoch != joined.Epoch
                && !(await SinceAsync(new RecoveryStream(roomKey, DeliveryTarget.Room, from))).Complete)
            {
                from = joined;
            }

            streams.Add(new RecoveryStream(roomKey, DeliveryTarget.Room, from));
        }

        var sessionKey = GrainKeys.Session(HubName, connectionId);
        streams.Add(new RecoveryStream(sessionKey, DeliveryTarget.Connection, own.Epoch != SessionStart ? own : new GroupPosition(recovery.Epoch, 0)));
        var answers = await Task.WhenAll(streams.Select(SinceAsync));
        return answers.All(a => a.Complete) ? new RecoveryPlan(recovery, streams) : null;
    }

    /// <summary>
    /// Opens a recovered connection under its old id, with everything it receives held back (the replays go first),
    /// and puts it in its rooms again.
    /// </summary>
    internal async Task ConnectRecoveredAsync(LocalConnection local, RecoveryPlan plan)
    {
        foreach (var stream in plan.Streams)
        {
            local.Hold(stream.Key);
        }

        await ConnectAsync(local);
        await Task.WhenAll(plan.Streams.Where(s => s.Target == DeliveryTarget.Room).Select(s => JoinLocalAsync(local, s.Key, recordAs: s.From)));
    }

    /// <summary>
    /// Writes what the client missed, then lets the live flow of each stream go on after it; false (and the held
    /// messages are dropped) when a stream's history lost some of it meanwhile. Each stream's messages keep their
    /// order; the streams' replays are merged by when their messages were sent.
    /// </summary>
    internal async Task<bool> ReplayRecoveredAsync(LocalConnection local, RecoveryPlan plan)
    {
        HashSet<string> rooms = [.. plan.Session.Session.Rooms];
        if (local.OwnRoomKey is { } own)
        {
            rooms.Add(own);
        }

        Replay[] answers;
        try
        {
            answers = await Task.WhenAll(plan.Streams.Select(SinceAsync));
        }
        catch
        {
            ReleaseAll(local, plan, null);
            throw;
        }

        if (!answers.All(a => a.Complete))
        {
            ReleaseAll(local, plan, null);
            return false;
        }

        var replays = new OutgoingMessage[plan.Streams.Count][];
        for (var i = 0; i < replays.Length; i++)
        {
            replays[i] = ReplayFor(answers[i], plan.Streams[i].Key, plan.Streams[i].Target, local.ConnectionId, rooms);
        }

        foreach (var message in BySendTime(replays))
        {
            local.Write(message);
        }

        ReleaseAll(local, plan, answers);
        return true;
    }

    /// <summary>Ends the holds of a recovery: what came after each replay is written; with no replays, nothing held is.</summary>
    private static void ReleaseAll(LocalConnection local, RecoveryPlan plan, Replay[]? answers)
    {
        for (var i = 0; i < plan.Streams.Count; i++)
        {
            local.Release(plan.Streams[i].Key, [], answers is null ? long.MaxValue : answers[i].UpTo, answers?[i].Epoch);
        }
    }

    /// <summary>The messages of several replays in the order they were sent, each replay's own order kept.</summary>
    private static IEnumerable<OutgoingMessage> BySendTime(OutgoingMessage[][] replays)
    {
        var next = new int[replays.Length];
        while (true)
        {
            var pick = -1;
            for (var i = 0; i < replays.Length; i++)
            {
                if (next[i] < replays[i].Length
                    && (pick < 0 || replays[i][next[i]].Payload.SentAtTicks < replays[pick][next[pick]].Payload.SentAtTicks))
                {
                    pick = i;
                }
            }

            if (pick < 0)
            {
                yield break;
            }

            yield return replays[pick][next[pick]++];
        }
    }

    /// <summary>
    /// The messages of a replay that were for <paramref name="connectionId"/>: not the ones that left it out, nor those
    /// for rooms it was not in (<paramref name="rooms"/>, by key).
    /// </summary>
    private static OutgoingMessage[] ReplayFor(Replay replay, string key, DeliveryTarget target, string connectionId, IReadOnlySet<string> rooms)
    {
        var messages = new List<OutgoingMessage>(replay.Messages.Count);
        foreach (var entry in replay.Messages)
        {
            if (entry.Except is { } except && except.Contains(connectionId))
            {
                continue;
            }

            if (entry.Rooms is { } filter && (filter.Exclude.Any(rooms.Contains) || (filter.Include.Count > 0 && !filter.Include.Any(rooms.Contains))))
            {
                continue;
            }

            messages.Add(new OutgoingMessage(entry.Payload, new StreamPosition(key, replay.Epoch, entry.Sequence, ToConnection: target == DeliveryTarget.Connection)));
        }

        return [.. messages];
    }

    private Task<Replay> SinceAsync(RecoveryStream stream) => stream.Target switch
    {
        DeliveryTarget.Connection => _grains.GetGrain<ISessionGrain>(stream.Key).Since(stream.From.Epoch, stream.From.Sequence),
        DeliveryTarget.Namespace => _grains.GetGrain<INamespaceGrain>(stream.Key).Since(stream.From.Epoch, stream.From.Sequence),
        _ => Room(stream.Key).Since(stream.From.Epoch, stream.From.Sequence),
    };
}
