using Orleans.Concurrency;

namespace Realtime.Grains.Hubs;

/// <summary>Passes a gateway's lease renewal to its hub's registry, from the silo the renewal came through.</summary>
[StatelessWorker]
internal sealed class GatewayLeaseRelayGrain : Grain, IGatewayLeaseRelayGrain
{
    public Task<LeaseStatus> RenewLease(string hub, GatewayRegistration gateway) => GrainFactory.GetGrain<IHubGrain>(hub).RenewLease(gateway);
}
