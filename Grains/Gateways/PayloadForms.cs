using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Realtime.Grains.Gateways;

/// <summary>
/// Which payloads the cluster's gateways can deliver, as their silo metadata says under <see cref="Key"/>. A gateway
/// of this version (<see cref="Version"/> 2) makes the SignalR form of a socket.io emit that arrives without one
/// (<c>SerializedPayload.Event</c>); one of an earlier version has no such key and needs the SignalR form in every
/// payload. A gateway leaves that form out of its socket.io emits only while <see cref="EveryGatewayMakesSignalRForms"/>,
/// so that during a rolling upgrade from an earlier version nothing reaches a gateway that could not deliver it.
/// </summary>
public sealed class PayloadForms(IClusterMembershipService membership, ILocalSiloDetails self, ISiloMetadataCache? metadata = null)
{
    /// <summary>The silo metadata key: the payload version the silo reads, a number.</summary>
    public const string Key = "realtime.payloads";

    /// <summary>The version this build reads: 2, payloads whose SignalR form the receiving gateway makes.</summary>
    public const int Version = 2;

    /// <summary>How long an answer is kept before the membership and metadata are looked at again.</summary>
    internal static readonly TimeSpan Recheck = TimeSpan.FromSeconds(1);

    private long _nextCheck = long.MinValue;
    private volatile bool _every;

    /// <summary>
    /// True when every other silo that may hold connections, among all the membership lists as not dead (joining ones
    /// included), says it reads version 2 or later. A silo whose metadata this silo has not seen yet counts against it,
    /// as does one without metadata that does not say it holds grains only. Looked at again at most once a second.
    /// </summary>
    public bool EveryGatewayMakesSignalRForms
    {
        get
        {
            var now = Environment.TickCount64;
            if (now >= Volatile.Read(ref _nextCheck))
            {
                _every = Check();
                Volatile.Write(ref _nextCheck, now + (long)Recheck.TotalMilliseconds);
            }

            return _every;
        }
    }

    /// <summary>Looks at the membership and the metadata now.</summary>
    internal bool Check() =>
        metadata is not null && EveryOtherReads(membership.CurrentSnapshot.Members, self.SiloAddress, silo => metadata.GetSiloMetadata(silo).Metadata);

    /// <summary>
    /// True when every silo of <paramref name="members"/> but <paramref name="self"/> and the dead either holds grains
    /// only or reads <see cref="Version"/>, as <paramref name="metadataOf"/> says (empty: not known yet).
    /// </summary>
    internal static bool EveryOtherReads(
        IEnumerable<KeyValuePair<SiloAddress, ClusterMember>> members, SiloAddress self, Func<SiloAddress, IReadOnlyDictionary<string, string>> metadataOf)
    {
        foreach (var (silo, member) in members)
        {
            if (member.Status == SiloStatus.Dead || silo.Equals(self))
            {
                continue;
            }

            var values = metadataOf(silo);
            if (values.TryGetValue(SiloRoles.Key, out var role) && role == SiloRoles.Grains)
            {
                continue;
            }

            if (!values.TryGetValue(Key, out var version) || !int.TryParse(version, System.Globalization.CultureInfo.InvariantCulture, out var reads) || reads < Version)
            {
                return false;
            }
        }

        return true;
    }
}
