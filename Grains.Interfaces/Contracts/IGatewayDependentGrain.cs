namespace Realtime.Contracts;

/// <summary>
/// A grain that keeps state per gateway (members, a session): told, as a call of its own, when gateways left the
/// cluster or were declared dead, so that it drops what it held for them.
/// </summary>
[Alias("realtime.gateway-dependent")]
public interface IGatewayDependentGrain : IGrainWithStringKey
{
    /// <summary>The gateways left the cluster or were declared dead: the grain forgets what it held for them.</summary>
    [Alias("gateways-departed")]
    Task GatewaysDeparted(IReadOnlyList<string> gatewayIds);
}
