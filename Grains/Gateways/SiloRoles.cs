using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Realtime.Grains.Gateways;

/// <summary>
/// What a silo of a realtime cluster is for, as its metadata (<c>UseSiloMetadata</c>) says under <see cref="Key"/>:
/// a <see cref="Gateway"/> holds client connections (and grains), a <see cref="Grains"/> silo holds only grains.
/// </summary>
public static class SiloRoles
{
    /// <summary>The silo metadata key.</summary>
    public const string Key = "realtime.role";

    /// <summary>A silo that terminates client connections: a gateway.</summary>
    public const string Gateway = "gateway";

    /// <summary>A silo without connections, that scales grain capacity on its own.</summary>
    public const string Grains = "grains";

    /// <summary>False only for a silo whose metadata says it holds grains only.</summary>
    public static bool MayHoldConnections(SiloMetadata? metadata) =>
        metadata is null || !metadata.Metadata.TryGetValue(Key, out var role) || role != Grains;
}
