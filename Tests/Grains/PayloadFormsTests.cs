using System.Net;
using Realtime.Grains.Gateways;

namespace Realtime.Tests.Grains;

/// <summary>
/// A gateway leaves a socket.io emit's SignalR form to the gateways that deliver it only while every gateway of the
/// cluster says, in its silo metadata, that it makes that form: during a rolling upgrade from a version that does
/// not, the emits carry the form, and nothing reaches a gateway that could not deliver it.
/// </summary>
public sealed class PayloadFormsTests
{
    private static readonly SiloAddress Self = Silo(1);
    private static readonly Dictionary<string, string> Reads = new() { [SiloRoles.Key] = SiloRoles.Gateway, [PayloadForms.Key] = "2" };
    private static readonly Dictionary<string, string> Earlier = new() { [SiloRoles.Key] = SiloRoles.Gateway };
    private static readonly Dictionary<string, string> GrainsOnly = new() { [SiloRoles.Key] = SiloRoles.Grains };
    private static readonly Dictionary<string, string> Unknown = [];

    [Fact]
    public void EveryGatewayOfThisVersion_LeavesTheFormOut() =>
        Assert.True(Decide((2, SiloStatus.Active, Reads), (3, SiloStatus.Active, Reads), (4, SiloStatus.Active, GrainsOnly)));

    [Fact]
    public void AGatewayOfAnEarlierVersion_OrOneStillJoining_KeepsTheFormIn()
    {
        Assert.False(Decide((2, SiloStatus.Active, Reads), (3, SiloStatus.Active, Earlier)));
        Assert.False(Decide((2, SiloStatus.Active, Reads), (3, SiloStatus.Joining, Earlier)));
        Assert.False(Decide((2, SiloStatus.Active, Reads), (3, SiloStatus.ShuttingDown, Earlier)));
        Assert.False(Decide((2, SiloStatus.Active, new Dictionary<string, string> { [PayloadForms.Key] = "1" })));
        Assert.False(Decide((2, SiloStatus.Active, new Dictionary<string, string> { [PayloadForms.Key] = "two" })));
    }

    [Fact]
    public void ASiloWhoseMetadataIsNotKnownYet_KeepsTheFormIn() =>
        Assert.False(Decide((2, SiloStatus.Active, Reads), (3, SiloStatus.Joining, Unknown)));

    [Fact]
    public void DeadSilos_SilosOfGrainsOnly_AndTheSiloItself_DoNotCount()
    {
        Assert.True(Decide((2, SiloStatus.Dead, Earlier), (3, SiloStatus.Active, GrainsOnly), (4, SiloStatus.Active, new Dictionary<string, string> { [PayloadForms.Key] = "3" })));
        Assert.True(Decide((1, SiloStatus.Active, Unknown)));
    }

    [Fact]
    public void SendsWithPositions_OnlyWhenEveryOtherSilo_GrainSilosToo_ReadsVersion3()
    {
        Dictionary<string, string> Of(string role, string version) => new() { [SiloRoles.Key] = role, [PayloadForms.Key] = version };
        Assert.True(DecidePositions((2, SiloStatus.Active, Of(SiloRoles.Gateway, "3")), (3, SiloStatus.Active, Of(SiloRoles.Grains, "3")), (4, SiloStatus.Dead, Earlier)));
        Assert.False(DecidePositions((2, SiloStatus.Active, Of(SiloRoles.Gateway, "3")), (3, SiloStatus.Active, Of(SiloRoles.Grains, "2"))));
        Assert.False(DecidePositions((2, SiloStatus.Active, Of(SiloRoles.Gateway, "2"))));
        Assert.False(DecidePositions((2, SiloStatus.Joining, Unknown)));
    }

    private static bool Decide(params (int Port, SiloStatus Status, Dictionary<string, string> Metadata)[] silos) =>
        Decide(PayloadForms.SignalRFormsVersion, grainSilosToo: false, silos);

    private static bool DecidePositions(params (int Port, SiloStatus Status, Dictionary<string, string> Metadata)[] silos) =>
        Decide(PayloadForms.PositionsVersion, grainSilosToo: true, silos);

    private static bool Decide(int version, bool grainSilosToo, (int Port, SiloStatus Status, Dictionary<string, string> Metadata)[] silos) =>
        PayloadForms.EveryOtherReads(
            silos.Select(s => KeyValuePair.Create(Silo(s.Port), new ClusterMember(Silo(s.Port), s.Status, $"silo-{s.Port}"))),
            Self,
            address => silos.Single(s => Silo(s.Port).Equals(address)).Metadata,
            version,
            grainSilosToo);

    private static SiloAddress Silo(int port) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11110 + port), 1);
}
