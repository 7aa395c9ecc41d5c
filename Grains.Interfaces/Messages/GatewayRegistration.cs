namespace Realtime.Grains;

/// <summary>A gateway as the registry of a hub knows it: how grains reach it, and how other gateways do.</summary>
/// <param name="GatewayId">The gateway's id, unique to its process's lifetime.</param>
/// <param name="Observer">The gateway's observer, which grains push deliveries to and ask for members.</param>
/// <param name="Url">
/// The URL other gateways reach it at for requests they forward to it (socket.io long-polling of a session it owns);
/// null when it takes none.
/// </param>
[GenerateSerializer, Immutable, Alias("realtime.gateway-registration")]
public sealed record GatewayRegistration(
    [property: Id(0)] string GatewayId,
    [property: Id(1)] IGatewayObserver Observer,
    [property: Id(2)] string? Url);

/// <summary>What renewing a gateway's lease tells the gateway.</summary>
[GenerateSerializer, Alias("realtime.lease-status")]
public enum LeaseStatus : byte
{
    /// <summary>The lease is held, or was taken now.</summary>
    Held,
    /// <summary>
    /// The lease ran out earlier and the gateway's members were dropped everywhere: its connections are no longer
    /// known to any grain, and the gateway must not go on serving them.
    /// </summary>
    Expired,
}

/// <summary>The gateways of a hub, as the registry sees them now.</summary>
/// <param name="Live">The gateways that hold a lease.</param>
/// <param name="Departed">Gateways whose lease ran out or which left, still remembered, so that grains drop their members.</param>
/// <param name="SinceRenewal">
/// For each of <paramref name="Live"/>, in the same order, how long ago it last renewed its lease: a gateway that
/// renewed moments ago is alive, even when Orleans cannot reach its observer for a moment (its silo just died).
/// </param>
[GenerateSerializer, Immutable, Alias("realtime.gateway-view")]
public sealed record GatewayView(
    [property: Id(0)] IReadOnlyList<GatewayRegistration> Live,
    [property: Id(1)] IReadOnlyList<string> Departed,
    [property: Id(2)] IReadOnlyList<TimeSpan> SinceRenewal);
