using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Services;
using Realtime.Contracts;

namespace Realtime.Grains.Gateways;

/// <summary>
/// The cluster's gateways, as a silo finds them: a gateway is a silo, its id names that silo
/// (<see cref="GatewayIds"/>), and Orleans' membership says whether it is alive. There is no registry of gateways of
/// our own and nothing stored: this reads the membership snapshot and the silos' metadata (<see cref="SiloRoles"/>).
/// </summary>
public sealed partial class GatewayDirectory : GrainServiceClient<IGatewayService>
{
    /// <summary>A silo the membership does not list (yet) is taken as alive for this long after its id was first seen.</summary>
    public static readonly TimeSpan UnlistedGrace = TimeSpan.FromMinutes(1);

    private readonly IServiceProvider _services;
    private readonly IClusterMembershipService _membership;
    private readonly ISiloMetadataCache? _metadata;
    private readonly SiloAddress _here;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Entry> _gateways = new(StringComparer.Ordinal);
    private readonly Func<Delivery, bool> _deliverHere;
    private ILocalGateway? _local;

    public GatewayDirectory(IServiceProvider services)
        : base(services)
    {
        _services = services;
        _membership = services.GetRequiredService<IClusterMembershipService>();
        _metadata = services.GetService<ISiloMetadataCache>();
        _here = services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        _logger = services.GetRequiredService<ILogger<GatewayDirectory>>();
        _deliverHere = DeliverHere;
        Time = services.GetService<TimeProvider>() ?? TimeProvider.System;
    }

    /// <summary>The silo's clock, for those that wait on gateways.</summary>
    internal TimeProvider Time { get; }

    /// <summary>The gateway service of a gateway, by its id (<see cref="GatewayIds"/>); an id that names no silo is refused.</summary>
    public IGatewayService Of(string gatewayId) => EntryOf(gatewayId).Service ?? throw new ArgumentException($"'{gatewayId}' is not a gateway id.", nameof(gatewayId));

    /// <summary>
    /// When <paramref name="gatewayId"/> names this silo: what hands a delivery to this silo's gateway in the caller's
    /// own turn, instead of a call to its gateway service, false when there is none here (the caller then makes the
    /// call). Null for a gateway of another silo. Deliveries handed so do not wait for anything: what the gateway starts
    /// from them would run on the caller's scheduler (see <see cref="Realtime.Grains.Groups.DeliveryChain"/>).
    /// </summary>
    internal Func<Delivery, bool>? HereOf(string gatewayId) => EntryOf(gatewayId).Silo is { } silo && silo.Equals(_here) ? _deliverHere : null;

    private bool DeliverHere(Delivery delivery)
    {
        // The gateway is resolved on first use, as the gateway service does: it depends on the host's web server, built after the silo.
        if ((_local ??= _services.GetService<ILocalGateway>()) is not { } local)
        {
            return false;
        }

        try
        {
            local.Deliver(delivery);
        }
        catch (Exception ex)
        {
            DeliveryFailed(_logger, delivery.Target, delivery.Key, delivery.Sequence, ex);
        }

        return true;
    }

    [LoggerMessage(142, LogLevel.Error, "This silo's gateway failed to take message {Sequence} of {Target} {Key}; its local members may miss it.")]
    private static partial void DeliveryFailed(ILogger logger, DeliveryTarget target, string key, long sequence, Exception exception);

    /// <summary>The gateway service of a silo.</summary>
    public IGatewayService OfSilo(SiloAddress silo) => GetGrainService(silo);

    /// <summary>The silo a gateway id names, or null when it names none.</summary>
    public SiloAddress? SiloOf(string gatewayId) => EntryOf(gatewayId).Silo;

    /// <summary>
    /// True when the gateway is gone for good: its silo is stopping, or was declared dead, or its id names no silo.
    /// A silo the membership does not list is taken as alive (it may have joined moments ago) for
    /// <see cref="UnlistedGrace"/> after <paramref name="since"/>.
    /// </summary>
    public bool IsGone(string gatewayId, DateTimeOffset since, DateTimeOffset now)
    {
        if (EntryOf(gatewayId).Silo is not { } silo)
        {
            return true;
        }

        return _membership.CurrentSnapshot.Members.TryGetValue(silo, out var member)
            ? member.Status is SiloStatus.ShuttingDown or SiloStatus.Stopping or SiloStatus.Dead
            : now - since > UnlistedGrace;
    }

    /// <summary>True when the membership lists the gateway's silo as active.</summary>
    public bool IsActive(string gatewayId) =>
        EntryOf(gatewayId).Silo is { } silo && IsActive(silo);

    /// <summary>
    /// Waits at most <paramref name="within"/> for the membership to stop listing the gateway's silo as active: true
    /// when it did (its silo left, or was declared dead), false when it is still active then.
    /// </summary>
    internal async Task<bool> LeavesWithinAsync(string gatewayId, TimeSpan within)
    {
        if (!IsActive(gatewayId))
        {
            return true;
        }

        using var timeout = new CancellationTokenSource(within, Time);
        try
        {
            await foreach (var _ in _membership.MembershipUpdates.WithCancellation(timeout.Token))
            {
                if (!IsActive(gatewayId))
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
        }

        return !IsActive(gatewayId);
    }

    /// <summary>True when the membership lists the silo as active.</summary>
    public bool IsActive(SiloAddress silo) =>
        _membership.CurrentSnapshot.Members.TryGetValue(silo, out var member) && member.Status == SiloStatus.Active;

    /// <summary>True when the silo's metadata, as far as this silo has seen it, says it reads <paramref name="version"/> or later (see <see cref="PayloadForms"/>).</summary>
    public bool Reads(SiloAddress silo, int version) => _metadata is not null && PayloadForms.Reads(_metadata.GetSiloMetadata(silo).Metadata, version);

    /// <summary>
    /// The active silos that may hold connections: those whose metadata says they are gateways, and those whose metadata
    /// is not known yet (or not kept, on a silo without <c>UseSiloMetadata</c>). Silos known to hold only grains are left
    /// out, so that one of them that hangs holds nobody's questions up.
    /// </summary>
    public List<SiloAddress> Candidates()
    {
        var candidates = new List<SiloAddress>();
        foreach (var (silo, member) in _membership.CurrentSnapshot.Members)
        {
            if (member.Status == SiloStatus.Active && SiloRoles.MayHoldConnections(_metadata?.GetSiloMetadata(silo)))
            {
                candidates.Add(silo);
            }
        }

        return candidates;
    }

    private Entry EntryOf(string gatewayId)
    {
        if (_gateways.TryGetValue(gatewayId, out var entry))
        {
            return entry;
        }

        entry = GatewayIds.TryGetSilo(gatewayId, out var silo) ? new Entry(silo, GetGrainService(silo)) : new Entry(null, null);
        if (_gateways.Count > 10_000)
        {
            _gateways.Clear();
        }

        return _gateways.GetOrAdd(gatewayId, entry);
    }

    private sealed record Entry(SiloAddress? Silo, IGatewayService? Service);
}
