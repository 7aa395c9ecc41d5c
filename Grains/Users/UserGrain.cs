using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Grains.Hubs;
using Realtime.Grains.Internal;

namespace Realtime.Grains.Users;

/// <summary>One user: the user's connections on every gateway, so a send to the user reaches each of them once.</summary>
internal sealed class UserGrain(GatewayDependents dependents, IOptions<GatewayLeaseOptions> lease, ILogger<UserGrain> logger)
    : MemberGroupGrain(DeliveryTarget.User, dependents, lease, logger), IUserGrain
{
    public Task<int> Connect(Member member, IGatewayObserver gateway) => AddMember(member, gateway);

    public Task<int> Disconnect(string gatewayId, string connectionId)
    {
        RemoveMember(gatewayId, connectionId);
        return Task.FromResult(MemberTable.Count);
    }
}
