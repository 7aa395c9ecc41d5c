using Realtime.Contracts;
using Realtime.Gateway.Observability;

namespace Realtime.Gateway.Core;

/// <summary>
/// Taking a session back after a reconnect ("resume"), for both protocols. Each protocol has its own entry, because
/// their promises differ:
/// <list type="bullet">
/// <item>SignalR's <c>Resume</c> (<see cref="ResumeAsync"/>): a new connection takes the old one's data and rooms, and
/// room by room gets what it missed; a room whose history no longer holds all of it is named in the answer
/// (<see cref="ResumeResult.Lost"/>), and the rest is replayed.</item>
/// <item>socket.io's connection state recovery (<see cref="ClaimRecoveryAsync"/>, <see cref="PlanRecoveryAsync"/>,
/// <see cref="ConnectRecoveredAsync"/>, <see cref="ReplayRecoveredAsync"/>): the connection comes back under its old
/// id with its rooms and data, and either every stream's history holds what it missed or nothing is recovered and the
/// client starts afresh.</item>
/// </list>
/// Both end in one replay (<see cref="ReplayHeldAsync"/>): the streams are held, each one's history after the client's
/// position is read, what was for the old connection is written in the order it was sent, and each stream's live flow
/// goes on after its replay. Never a silent gap.
/// </summary>
public sealed partial class LocalHub<THub>
{
    /// <summary>The secret a client presents to take its session back after a reconnect.</summary>
    internal Task<string> ResumeTokenAsync(string connectionId) => Session(connectionId).Resumable();

    /// <summary>
    /// Gives connection <paramref name="connectionId"/> the closed session <paramref name="previousConnectionId"/>
    /// (with its secret): its data, its rooms, and, in order, the messages it missed after <paramref name="positions"/>
    /// (a room's, or the namespace's when a position names no room); each stream's live messages follow without a gap
    /// or a duplicate.
    /// </summary>
    internal async Task<ResumeResult> ResumeAsync(string connectionId, string previousConnectionId, string token, IReadOnlyList<ResumePosition?> positions)
    {
        if (!_connections.TryGetValue(connectionId, out var local))
        {
            throw new RejectedHubException(RejectionReason.HubError, "The connection is not open.");
        }

        var given = ValidResumeArguments(previousConnectionId, token, positions);

        // The session is held for this gateway while the resume runs, and given back if it fails, so that the client's
        // next try finds it again.
        var session = Session(previousConnectionId);
        SessionInfo? info;
        try
        {
            info = await session.Claim(token, local.Member.UserId, HubName, local.Namespace, GatewayId);
        }
        catch
        {
            // The claim may have been made and its answer lost: whatever it took goes back, for the client's next try.
            GiveBack(session);
            throw;
        }

        if (info is null)
        {
            return new ResumeResult(false, [], 0, [], []);
        }

        ResumeResult result;
        try
        {
            result = await ResumeClaimedAsync(local, info, previousConnectionId, given);
        }
        catch
        {
            GiveBack(session);
            throw;
        }

        try
        {
            await session.EndClaim(GatewayId, resumed: true);
        }
        catch (Exception ex) when (ClusterFailure.Is(ex))
        {
            // Resumed all the same: the claim runs out, and only this client holds the secret.
            Logger.LogWarning(ex, "Could not tell session {Session} that it was resumed", previousConnectionId);
        }

        return result;
    }

    private async Task<ResumeResult> ResumeClaimedAsync(LocalConnection local, SessionInfo info, string previousConnectionId, IReadOnlyList<ResumePosition> positions)
    {
        var connectionId = local.ConnectionId;
        if (info.Data is { } data)
        {
            await SetDataAsync(connectionId, data);
        }

        // A room the client names no position for is joined with no replay: what it missed there is unknown.
        var streams = new List<RecoveryStream>();
        var noPosition = new List<string>();
        foreach (var roomKey in info.Rooms)
        {
            var room = GrainKeys.RoomName(roomKey);
            if (positions.FirstOrDefault(p => p.Room == room) is { } position)
            {
                streams.Add(new RecoveryStream(roomKey, DeliveryTarget.Room, new GroupPosition(position.Epoch, position.Seq)));
            }
            else
            {
                noPosition.Add(room);
            }
        }

        if (positions.FirstOrDefault(p => p.Room is null) is { } inNamespace)
        {
            streams.Add(new RecoveryStream(GrainKeys.Namespace(HubName, local.Namespace), DeliveryTarget.Namespace, new GroupPosition(inNamespace.Epoch, inNamespace.Seq)));
        }

        Hold(local, streams);
        try
        {
            foreach (var roomKey in info.Rooms)
            {
                await JoinRoomAsync(connectionId, local.Namespace, GrainKeys.RoomName(roomKey));
            }
        }
        catch
        {
            Release(local, streams, drop: false);
            throw;
        }

        var (complete, replayed) = await ReplayHeldAsync(local, streams, previousConnectionId, info.Rooms.ToHashSet(StringComparer.Ordinal), wholeOrNothing: false);
        var lost = streams.Where((_, i) => !complete[i]).Select(s => s.Target == DeliveryTarget.Room ? GrainKeys.RoomName(s.Key) : local.Namespace);
        return new ResumeResult(true, RoomsOf(connectionId), replayed, [.. lost], noPosition);
    }

    /// <summary>The arguments of a resume, checked before anything is claimed; a clear error for what cannot be one.</summary>
    private static IReadOnlyList<ResumePosition> ValidResumeArguments(string previousConnectionId, string token, IReadOnlyList<ResumePosition?> positions)
    {
        if (string.IsNullOrEmpty(previousConnectionId) || string.IsNullOrEmpty(token))
        {
            throw new RejectedHubException(RejectionReason.InvalidInput, "Resume needs the connectionId and token that Session() returned.");
        }

        var valid = new List<ResumePosition>(positions.Count);
        var rooms = new HashSet<string?>();
        for (var i = 0; i < positions.Count; i++)
        {
            var error = positions[i] switch
            {
                null => "is null",
                { Epoch: null or "" } => "has no epoch",
                { Seq: < 0 } => "has a negative seq",
                { } p when !rooms.Add(p.Room) => p.Room is null ? "repeats the namespace's position" : $"repeats room '{p.Room}'",
                _ => null,
            };
            if (error is not null)
            {
                throw new RejectedHubException(RejectionReason.InvalidInput, $"Invalid resume position {i}: it {error}. Each is {{ room, epoch, seq }} from the last event of a room (room null for the namespace).");
            }

            valid.Add(positions[i]!);
        }

        return valid;
    }

    /// <summary>The epoch a recovery offset names before the connection received anything from its session.</summary>
    internal const string SessionStart = "000000000000";

    /// <summary>Takes a recoverable session with its secret; null when it cannot be recovered.</summary>
    internal Task<SessionRecovery?> ClaimRecoveryAsync(string connectionId, string token, string? userId) =>
        Session(connectionId).Recover(token, userId, GatewayId);

    /// <summary>Gives back a session claimed for a recovery that failed on the cluster, so that its client can try again; fire and forget.</summary>
    internal void GiveBackRecovery(string connectionId) => GiveBack(Session(connectionId));

    /// <summary>
    /// Ends this gateway's claim on a session without taking it, trying again while the cluster does not answer (the
    /// failure that made the claim fail may last): a claim never given back keeps the session from its client until
    /// it runs out.
    /// </summary>
    private void GiveBack(ISessionGrain session) => _ = GiveBackAsync(session);

    private async Task GiveBackAsync(ISessionGrain session)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await session.EndClaim(GatewayId, resumed: false);
                return;
            }
            catch (Exception ex) when (ClusterFailure.Is(ex) && attempt < GiveBackAttempts)
            {
                await Task.Delay(GiveBackRetry, Time);
            }
            catch (Exception ex)
            {
                Logger.LogWarning(ex, "Could not give session {Session} back; the claim runs out by itself", session.GetPrimaryKeyString());
                return;
            }
        }
    }

    private const int GiveBackAttempts = 20;

    private static readonly TimeSpan GiveBackRetry = TimeSpan.FromMilliseconds(250);

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
        Hold(local, plan.Streams);
        await ConnectAsync(local);
        await Task.WhenAll(plan.Streams.Where(s => s.Target == DeliveryTarget.Room).Select(s => JoinLocalAsync(local, s.Key, recordAs: s.From)));
    }

    /// <summary>
    /// Writes what the recovered client missed, then lets the live flow of each stream go on after it; false (and the
    /// held messages are dropped) when a stream's history lost some of it meanwhile.
    /// </summary>
    internal async Task<bool> ReplayRecoveredAsync(LocalConnection local, RecoveryPlan plan)
    {
        HashSet<string> rooms = [.. plan.Session.Session.Rooms];
        if (local.OwnRoomKey is { } own)
        {
            rooms.Add(own);
        }

        var (complete, _) = await ReplayHeldAsync(local, plan.Streams, local.ConnectionId, rooms, wholeOrNothing: true);
        return complete.All(c => c);
    }

    private static void Hold(LocalConnection local, IReadOnlyList<RecoveryStream> streams)
    {
        foreach (var stream in streams)
        {
            local.Hold(stream.Key);
        }
    }

    /// <summary>
    /// The one replay of both protocols. The connection's <paramref name="streams"/> are held; reads each one's history
    /// after the client's position, writes what was for <paramref name="previousConnectionId"/> (in
    /// <paramref name="rooms"/>, by key) merged by when it was sent, then releases each stream after its replay.
    /// Returns, per stream, whether its history still held everything missed, and how many messages were written. A
    /// stream that cannot be replayed lets its held messages through, for the caller to report the gap; with
    /// <paramref name="wholeOrNothing"/>, nothing is written unless every stream can be, and the held messages are
    /// dropped.
    /// </summary>
    private async Task<(bool[] Complete, int Replayed)> ReplayHeldAsync(
        LocalConnection local, IReadOnlyList<RecoveryStream> streams, string previousConnectionId, IReadOnlySet<string> rooms, bool wholeOrNothing)
    {
        Replay[] answers;
        try
        {
            answers = await Task.WhenAll(streams.Select(SinceAsync));
        }
        catch
        {
            Release(local, streams, drop: wholeOrNothing);
            throw;
        }

        var complete = Array.ConvertAll(answers, a => a.Complete);
        if (wholeOrNothing && !complete.All(c => c))
        {
            Release(local, streams, drop: true);
            return (complete, 0);
        }

        // Broadcasts written to the connection since it opened (not held) are not written again: the namespace's
        // replay stops before the first of them, and what was held from there on goes through.
        var firstBroadcast = local.FirstNamespaceSequence;
        var replays = new OutgoingMessage[streams.Count][];
        var upTo = new long[streams.Count];
        for (var i = 0; i < streams.Count; i++)
        {
            var until = streams[i].Target == DeliveryTarget.Namespace && firstBroadcast > 0 ? firstBroadcast : long.MaxValue;
            replays[i] = complete[i] ? ReplayFor(answers[i], streams[i].Key, streams[i].Target, previousConnectionId, rooms, until) : [];
            upTo[i] = !complete[i] ? 0 : until == long.MaxValue ? answers[i].UpTo : until - 1;
        }

        var replayed = 0;
        foreach (var message in BySendTime(replays))
        {
            local.Write(message);
            replayed++;
        }

        for (var i = 0; i < streams.Count; i++)
        {
            local.Release(streams[i].Key, [], upTo[i], answers[i].Epoch);
        }

        return (complete, replayed);
    }

    /// <summary>Ends the holds with no replay: what was held goes through, or, with <paramref name="drop"/>, none of it does.</summary>
    private static void Release(LocalConnection local, IReadOnlyList<RecoveryStream> streams, bool drop)
    {
        foreach (var stream in streams)
        {
            local.Release(stream.Key, [], drop ? long.MaxValue : 0);
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
    /// for rooms it was not in (<paramref name="rooms"/>, by key), nor any from sequence number <paramref name="until"/> on.
    /// </summary>
    private static OutgoingMessage[] ReplayFor(Replay replay, string key, DeliveryTarget target, string connectionId, IReadOnlySet<string> rooms, long until)
    {
        var messages = new List<OutgoingMessage>(replay.Messages.Count);
        foreach (var entry in replay.Messages)
        {
            if (entry.Sequence >= until || (entry.Except is { } except && except.Contains(connectionId)))
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
        DeliveryTarget.Connection => _references.Get<ISessionGrain>(stream.Key).Since(stream.From.Epoch, stream.From.Sequence),
        DeliveryTarget.Namespace => _references.Get<INamespaceGrain>(stream.Key).Since(stream.From.Epoch, stream.From.Sequence),
        _ => Room(stream.Key).Since(stream.From.Epoch, stream.From.Sequence),
    };
}
