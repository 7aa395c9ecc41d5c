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

    /// <summary>
    /// What a silo of the realtime cluster says in its metadata (<c>silo.UseSiloMetadata(SiloRoles.Metadata(...))</c>):
    /// its <paramref name="role"/>, and the version of the realtime contracts it reads (<see cref="PayloadForms"/>). A silo
    /// of an application's own that hosts the realtime grains says it too: the gateways keep their sends, and leave a
    /// socket.io emit's SignalR form out, only while every silo says it reads the version that allows it.
    /// </summary>
    public static Dictionary<string, string> Metadata(string role) => new()
    {
        [Key] = role,
        [PayloadForms.Key] = PayloadForms.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>False only for a silo whose metadata says it holds grains only.</summary>
    public static bool MayHoldConnections(SiloMetadata? metadata) =>
        metadata is null || !metadata.Metadata.TryGetValue(Key, out var role) || role != Grains;
}
