namespace Realtime.Grains.Hubs;

/// <summary>
/// What a hub's registry keeps in grain storage, so that it survives its silo: the registered gateways and the
/// recently departed ones. Lease times are not stored; a registry that comes back gives every gateway a full lease.
/// </summary>
[GenerateSerializer, Alias("realtime.hub-registry-state")]
internal sealed class HubRegistryState
{
    [Id(0)]
    public Dictionary<string, GatewayRegistration> Gateways { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Departed gateways, with when they departed; forgotten after <see cref="HubGrain.DepartedRetention"/>.</summary>
    [Id(1)]
    public Dictionary<string, DateTimeOffset> Departed { get; set; } = new(StringComparer.Ordinal);
}
