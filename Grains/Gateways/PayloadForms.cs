using Orleans.Runtime.MembershipService.SiloMetadata;
using Realtime.Contracts;

namespace Realtime.Grains.Gateways;

/// <summary>
/// What the cluster's silos can do, as their silo metadata says under <see cref="Key"/> (a version number), so that
/// during a rolling upgrade nothing reaches a silo that could not read it:
/// <list type="bullet">
/// <item>2: a gateway makes the SignalR form of a socket.io emit that arrives without one (<c>SerializedPayload.Event</c>);
/// one of an earlier version has no such key and needs the SignalR form in every payload. A gateway leaves that form
/// out of its socket.io emits only while <see cref="EveryGatewayMakesSignalRForms"/>.</item>
/// <item>3: a group's grain answers <see cref="IMemberGroupGrain.Send"/> and asks gateways for their
/// <see cref="IGatewayService.GroupState"/>, and a gateway answers that and applies <see cref="DeliveryKind.Resent"/>.
/// A gateway sends with <see cref="IMemberGroupGrain.Send"/> only while <see cref="EverySiloSendsPositions"/>, and a
/// grain asks a gateway for its group state only when that gateway's silo says 3 (<see cref="GatewayDirectory.Reads"/>).</item>
/// <item>4: a gateway takes several deliveries in one call (<see cref="IGatewayService.DeliverAll"/>); a group sends
/// them so only to a gateway whose silo says 4. A hub's grain answers <see cref="IGatewayRegistryGrain.Send"/> and
/// asks gateways whose silo says 4 for their <see cref="IGatewayService.GroupState"/> of the hub; a gateway keeps its
/// sends to the whole hub only while <see cref="EverySiloKeepsHubSends"/>. A gateway answers
/// <see cref="IGatewayService.DeliverConfirmed"/>; a group sends it only to a gateway whose silo says 4.</item>
/// </list>
/// </summary>
public sealed class PayloadForms(IClusterMembershipService membership, ILocalSiloDetails self, ISiloMetadataCache? metadata = null)
{
    /// <summary>The silo metadata key: the version the silo reads, a number.</summary>
    public const string Key = "realtime.payloads";

    /// <summary>The version this build reads: 4, several deliveries in one call.</summary>
    public const int Version = 4;

    /// <summary>The first version whose gateways make the SignalR form of a socket.io emit.</summary>
    public const int SignalRFormsVersion = 2;

    /// <summary>The first version whose silos answer sends with positions, and whose gateways keep what they sent.</summary>
    public const int PositionsVersion = 3;

    /// <summary>The first version whose gateways take several deliveries in one call.</summary>
    public const int BatchesVersion = 4;

    /// <summary>The first version whose hub grains answer sends with positions, and whose gateways keep their sends to the whole hub.</summary>
    public const int HubSendsVersion = 4;

    /// <summary>The first version whose gateways answer a delivery once they took it (<see cref="IGatewayService.DeliverConfirmed"/>), and whose groups confirm a service's send.</summary>
    public const int ConfirmedVersion = 4;

    /// <summary>How long an answer is kept before the membership and metadata are looked at again.</summary>
    internal static readonly TimeSpan Recheck = TimeSpan.FromSeconds(1);

    private readonly Check _forms = new(() => ClusterReads(membership, self, metadata, SignalRFormsVersion, grainSilosToo: false, othersRequired: false));
    private readonly Check _positions = new(() => ClusterReads(membership, self, metadata, PositionsVersion, grainSilosToo: true, othersRequired: true));
    private readonly Check _hubSends = new(() => ClusterReads(membership, self, metadata, HubSendsVersion, grainSilosToo: true, othersRequired: true));

    /// <summary>
    /// True when every other silo that may hold connections, among all the membership lists as not dead (joining ones
    /// included), says it reads version 2 or later. A silo whose metadata this silo has not seen yet counts against it,
    /// as does one without metadata that does not say it holds grains only. Looked at again at most once a second.
    /// </summary>
    public bool EveryGatewayMakesSignalRForms => _forms.Value;

    /// <summary>
    /// True when the cluster has other silos than this one, and every other silo the membership lists as not dead,
    /// those of grains only included (they hold groups), says it reads version 3 or later. Alone (the embedded mode),
    /// there is no other silo whose death could take a group's deliveries with it. Looked at again at most once a second.
    /// </summary>
    public bool EverySiloSendsPositions => _positions.Value;

    /// <summary>
    /// <see cref="EverySiloSendsPositions"/> for version 4: every other silo, those of grains only included (any may hold
    /// the hub's grain), answers a send to the whole hub with its position.
    /// </summary>
    public bool EverySiloKeepsHubSends => _hubSends.Value;

    /// <summary>
    /// <see cref="EveryOtherReads"/> on one membership snapshot, with the metadata this silo has seen; false without
    /// metadata, and false when <paramref name="othersRequired"/> and no other silo is listed as not dead.
    /// </summary>
    private static bool ClusterReads(
        IClusterMembershipService membership, ILocalSiloDetails self, ISiloMetadataCache? metadata, int version, bool grainSilosToo, bool othersRequired)
    {
        if (metadata is null)
        {
            return false;
        }

        var members = membership.CurrentSnapshot.Members;
        return (!othersRequired || members.Any(m => m.Value.Status != SiloStatus.Dead && !m.Key.Equals(self.SiloAddress)))
            && EveryOtherReads(members, self.SiloAddress, silo => metadata.GetSiloMetadata(silo).Metadata, version, grainSilosToo);
    }

    /// <summary>
    /// True when every silo of <paramref name="members"/> but <paramref name="self"/> and the dead reads
    /// <paramref name="version"/>, as <paramref name="metadataOf"/> says (empty: not known yet); one that holds grains
    /// only is left out unless <paramref name="grainSilosToo"/>.
    /// </summary>
    internal static bool EveryOtherReads(
        IEnumerable<KeyValuePair<SiloAddress, ClusterMember>> members,
        SiloAddress self,
        Func<SiloAddress, IReadOnlyDictionary<string, string>> metadataOf,
        int version = SignalRFormsVersion,
        bool grainSilosToo = false)
    {
        foreach (var (silo, member) in members)
        {
            if (member.Status == SiloStatus.Dead || silo.Equals(self))
            {
                continue;
            }

            var values = metadataOf(silo);
            if (!grainSilosToo && values.TryGetValue(SiloRoles.Key, out var role) && role == SiloRoles.Grains)
            {
                continue;
            }

            if (!Reads(values, version))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when silo metadata says the silo reads <paramref name="version"/> or later.</summary>
    internal static bool Reads(IReadOnlyDictionary<string, string> values, int version) =>
        values.TryGetValue(Key, out var value) && int.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var reads) && reads >= version;

    /// <summary>A yes or no about the cluster, worked out again at most once every <see cref="Recheck"/>.</summary>
    private sealed class Check(Func<bool> check)
    {
        private long _nextCheck = long.MinValue;
        private volatile bool _value;

        public bool Value
        {
            get
            {
                var now = Environment.TickCount64;
                if (now >= Volatile.Read(ref _nextCheck))
                {
                    _value = check();
                    Volatile.Write(ref _nextCheck, now + (long)Recheck.TotalMilliseconds);
                }

                return _value;
            }
        }
    }
}
