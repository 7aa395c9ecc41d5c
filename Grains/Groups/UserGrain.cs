using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Contracts;
using Realtime.Contracts.Hosting;
using Realtime.Grains.Gateways;

namespace Realtime.Grains.Groups;

/// <summary>One user: the user's connections on every gateway, so a send to the user reaches each of them once.</summary>
[RolePlacement]
internal sealed class UserGrain(GatewayDependents dependents, GatewayDirectory gateways, IOptions<RealtimeClusterOptions> cluster, ILogger<UserGrain> logger)
    : MemberGroupGrain(DeliveryTarget.User, dependents, gateways, cluster, logger), IUserGrain
{
    public Task<int> Connect(Member member) => AddMember(member);

    public Task<int> Disconnect(string gatewayId, string connectionId)
    {
        RemoveMember(gatewayId, connectionId);
        return Task.FromResult(MemberTable.Count);
    }
}
