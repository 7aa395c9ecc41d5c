using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Contracts;
using Realtime.Contracts.Hosting;
using Realtime.Grains.Gateways;

namespace Realtime.Grains.Groups;

/// <summary>One namespace: its connections by gateway, and broadcast to them in one order.</summary>
[RolePlacement]
internal sealed class NamespaceGrain(GatewayDependents dependents, GatewayDirectory gateways, IOptions<RealtimeClusterOptions> cluster, ILogger<NamespaceGrain> logger)
    : MemberGroupGrain(DeliveryTarget.Namespace, dependents, gateways, cluster, logger), INamespaceGrain
{
    public Task<GroupPosition> Connect(Member member)
    {
        _ = AddMember(member);
        return Task.FromResult(Position);
    }

    public Task<int> Disconnect(string gatewayId, string connectionId)
    {
        RemoveMember(gatewayId, connectionId);
        return Task.FromResult(MemberTable.Count);
    }
}
