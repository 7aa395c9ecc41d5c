using System.Globalization;
using Microsoft.Extensions.Options;
using Orleans.Metadata;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;
using Realtime.Contracts.Hosting;

namespace Realtime.Grains.Gateways;

/// <summary>
/// Keeps a realtime grain on the silos <see cref="RealtimeClusterOptions.GrainPlacement"/> names, by the role in each
/// silo's metadata (<see cref="SiloRoles"/>); Orleans' placement then picks among them. With
/// <see cref="AvoidCaller"/>, the grain is not placed on the silo that first calls it while another one qualifies: a
/// connection's session is first called by the connection's own gateway, and must outlive that gateway so that its
/// client can take it back elsewhere. A small director of our own, because Orleans' metadata filters compare a silo's
/// metadata with the caller's, not with a fixed value.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class RolePlacementAttribute(bool avoidCaller = false) : PlacementFilterAttribute(new RolePlacementStrategy(avoidCaller))
{
    public bool AvoidCaller { get; } = avoidCaller;
}

internal sealed class RolePlacementStrategy(bool avoidCaller) : PlacementFilterStrategy(order: 0)
{
    private const string AvoidCallerProperty = "avoid-caller";

    public RolePlacementStrategy()
        : this(false)
    {
    }

    public bool AvoidCaller { get; private set; } = avoidCaller;

    public override void AdditionalInitialize(GrainProperties properties) =>
        AvoidCaller = bool.TryParse(GetPlacementFilterGrainProperty(AvoidCallerProperty, properties), out var avoid) && avoid;

    protected override IEnumerable<KeyValuePair<string, string>> GetAdditionalGrainProperties(
        IServiceProvider services, Type grainClass, GrainType grainType, IReadOnlyDictionary<string, string> existingProperties)
    {
        yield return new(AvoidCallerProperty, AvoidCaller.ToString(CultureInfo.InvariantCulture));
    }
}

/// <remarks>Placement runs on the silo that sends the first call: for a gateway's call, the gateway itself.</remarks>
internal sealed class RolePlacementDirector(IOptions<RealtimeClusterOptions> options, ILocalSiloDetails local, ISiloMetadataCache? metadata = null) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        var candidates = Allowed(options.Value.GrainPlacement, metadata, silos as IReadOnlyList<SiloAddress> ?? [.. silos]);
        if (filterStrategy is RolePlacementStrategy { AvoidCaller: true })
        {
            candidates = Prefer(candidates, silo => !silo.Equals(local.SiloAddress));
        }

        return candidates;
    }

    /// <summary>
    /// The silos of the role <paramref name="placement"/> names, by their metadata; all of them for
    /// <see cref="GrainPlacement.Anywhere"/>, without metadata, or when none has the role.
    /// </summary>
    internal static IReadOnlyList<SiloAddress> Allowed(GrainPlacement placement, ISiloMetadataCache? metadata, IReadOnlyList<SiloAddress> silos)
    {
        if (placement == GrainPlacement.Anywhere || metadata is null)
        {
            return silos;
        }

        var role = placement == GrainPlacement.Gateways ? SiloRoles.Gateway : SiloRoles.Grains;
        return Prefer(silos, silo => metadata.GetSiloMetadata(silo).Metadata.TryGetValue(SiloRoles.Key, out var value) && value == role);
    }

    /// <summary>The candidates that match, or all of them when none does (rather than no activation at all).</summary>
    private static IReadOnlyList<SiloAddress> Prefer(IReadOnlyList<SiloAddress> candidates, Func<SiloAddress, bool> match)
    {
        var matching = candidates.Where(match).ToList();
        return matching.Count > 0 ? matching : candidates;
    }
}
