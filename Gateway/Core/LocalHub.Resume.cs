using Realtime.Contracts;
using Realtime.Gateway.Observability;

namespace Realtime.Gateway.Core;

public sealed partial class LocalHub<THub>
{
    /// <summary>The secret a client presents to take its session back after a reconnect.</summary>
    internal Task<string> ResumeTokenAsync(string connectionId) => Session(connectionId).Resumable();

    /// <summary>
    /// Gives connection <paramref name="connectionId"/> the closed session <paramref name="previousConnectionId"/>
    /// (with its secret): its data, its rooms, and, room by room and in order, the messages it missed after
    /// <paramref name="positions"/>; each room's live messages follow without a gap or a duplicate.
    /// </summary>
    internal async Task<ResumeResult> ResumeAsync(string connectionId, string previousConnectionId, string token, IReadOnlyList<ResumePosition> positions)
    {
        if (!_connections.TryGetValue(connectionId, out var local))
        {
            throw new RejectedHubException(RejectionReason.HubError, "The connection is not open.");
        }

        var info = await Session(previousConnectionId).Claim(token, local.Member.UserId);
        if (info is null || info.Hub != HubName || info.Namespace != local.Namespace)
        {
            return new ResumeResult(false, [], 0, [], []);
        }

        if (info.Data is { } data)
        {
            await SetDataAsync(connectionId, data);
        }

        var replayed = 0;
        HashSet<string> previousRooms = [.. info.Rooms];
        var lost = new List<string>();
        var noPosition = new List<string>();
        foreach (var roomKey in info.Rooms)
        {
            var room = GrainKeys.RoomName(roomKey);
            var position = positions.FirstOrDefault(p => p.Room == room);
            local.Hold(roomKey);
            var (replay, upTo) = ((IReadOnlyList<OutgoingMessage>)[], long.MaxValue);
            string? epoch = null;
            try
            {
                await JoinRoomAsync(connectionId, local.Namespace, room);
                if (position is null)
                {
                    noPosition.Add(room);
                    upTo = 0;
                }
                else if (await Room(roomKey).Since(position.Epoch, position.Seq) is { Complete: true } answer)
                {
                    (replay, upTo, epoch) = (ReplayFor(answer, roomKey, DeliveryTarget.Room, previousConnectionId, previousRooms), answer.UpTo, answer.Epoch);
                }
                else
                {
                    lost.Add(room);
                    upTo = 0;
                }
            }
            finally
            {
                replayed += local.Release(roomKey, replay, upTo == long.MaxValue ? 0 : upTo, epoch);
            }
        }

        if (positions.FirstOrDefault(p => p.Room is null) is { } namespacePosition)
        {
            var namespaceKey = GrainKeys.Namespace(HubName, local.Namespace);
            local.Hold(namespaceKey);
            var (replay, upTo) = ((IReadOnlyList<OutgoingMessage>)[], 0L);
            string? epoch = null;
            try
            {
                var answer = await _grains.GetGrain<INamespaceGrain>(namespaceKey).Since(namespacePosition.Epoch, namespacePosition.Seq);
                if (answer.Complete)
                {
                    // Broadcasts since the connection opened were written to it already: replay only those before, and
                    // let what was held from there on through.
                    var first = local.FirstNamespaceSequence;
                    var before = answer with { Messages = [.. answer.Messages.Where(m => first == 0 || m.Sequence < first)] };
                    (replay, upTo, epoch) = (ReplayFor(before, namespaceKey, DeliveryTarget.Namespace, previousConnectionId, previousRooms), first == 0 ? answer.UpTo : first - 1, answer.Epoch);
                }
                else
                {
                    lost.Add(local.Namespace);
                }
            }
            finally
            {
                replayed += local.Release(namespaceKey, replay, upTo, epoch);
            }
        }

        return new ResumeResult(true, RoomsOf(connectionId), replayed, lost, noPosition);
    }

}
