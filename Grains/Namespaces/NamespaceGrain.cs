using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Grains.Hubs;
using Realtime.Grains.Internal;

namespace Realtime.Grains.Namespaces;

/// <summary>One namespace: its connections by gateway, and broadcast to them in one order.</summary>
internal sealed class NamespaceGrain(GatewayDependents dependents, IOptions<GatewayLeaseOptions> lease, ILogger<NamespaceGrain> logger)
    : MemberGroupGrain(DeliveryTarget.Namespace, dependents, lease, logger), INamespaceGrain
{
    public Task<GroupPosition> Connect(Member member, IGatewayObserver gateway)
    {
        _ = AddMember(member, gateway);
        return Task.FromResult(Position);
    }

    public Task<int> Disconnect(string gatewayId, string connectionId)
    {
        RemoveMember(gatewayId, connectionId);
        return Task.FromResult(MemberTable.Count);
    }
}
