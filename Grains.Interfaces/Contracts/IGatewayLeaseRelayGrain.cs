namespace Realtime.Grains;

/// <summary>
/// How a gateway renews its lease (key 0): a stateless worker, activated on whichever silo the gateway's call comes
/// through, that passes the renewal on to the hub's registry. Calls to stateless workers are spread over the silos a
/// client is connected to, so a silo that hangs (frozen, cut off) holds up only the renewals that went through it,
/// and the lease is renewed through the others.
/// </summary>
[Alias("realtime.gateway-lease-relay")]
public interface IGatewayLeaseRelayGrain : IGrainWithIntegerKey
{
    /// <summary>Takes or renews the gateway's lease in the registry of <paramref name="hub"/>.</summary>
    [Alias("renew-lease")]
    Task<LeaseStatus> RenewLease(string hub, GatewayRegistration gateway);
}
