using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Contracts;
using Realtime.Contracts.Hosting;
using Realtime.Grains.Gateways;

namespace Realtime.Grains.Groups;

/// <summary>
/// One room: its members by gateway. Every message to the room passes through this activation, which stamps them with
/// the next sequence number, so every member sees them in the same order. It stays active while it has members.
/// </summary>
[RolePlacement]
internal sealed class RoomGrain(GatewayDependents dependents, GatewayDirectory gateways, IOptions<RealtimeClusterOptions> cluster, ILogger<RoomGrain> logger)
    : MemberGroupGrain(DeliveryTarget.Room, dependents, gateways, cluster, logger), IRoomGrain
{
    public Task<GroupPosition> Join(Member member)
    {
        _ = AddMember(member);
        return Task.FromResult(Position);
    }

    public Task<int> Leave(Member member)
    {
        // The notice goes after everything this room sent the member's gateway; a member the room did not know gets
        // it unordered, as nothing was sent to it.
        var notice = Notice(DeliveryKind.MemberLeft, member.ConnectionId);
        if (RemoveMember(member.GatewayId, member.ConnectionId) is { } chain)
        {
            chain.Send(notice);
        }
        else
        {
            _ = Gateways.Of(member.GatewayId).Deliver(notice);
        }

        return Task.FromResult(MemberTable.Count);
    }

    public Task<int> Close()
    {
        // The activation stays (until collected as idle), so that a join right after the close finds an empty room
        // here, rather than a new activation that asks gateways still busy with the close for their members.
        var count = MemberTable.Count;
        CloseGroup();
        return Task.FromResult(count);
    }
}
