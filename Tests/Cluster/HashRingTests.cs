using Realtime.Runtime;
using Realtime.Runtime.Internal.Membership;

namespace Realtime.Tests.Cluster;

public sealed class HashRingTests
{
    private static readonly GrainId[] Keys = Enumerable.Range(0, 60_000).Select(i => new GrainId("room", $"RealtimeHub/chat/room-{i}")).ToArray();

    [Fact]
    public void Owner_RingsBuiltInAnyOrder_AgreeOnEveryKey()
    {
        var a = new HashRing(["10.0.0.1:11111@1", "10.0.0.2:11111@1", "10.0.0.3:11111@1"], 128);
        var b = new HashRing(["10.0.0.3:11111@1", "10.0.0.1:11111@1", "10.0.0.2:11111@1"], 128);

        Assert.All(Keys.Take(5000), key => Assert.Equal(a.Owner(key), b.Owner(key)));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void Owner_128VirtualNodes_EachSiloOwnsItsShareWithin20Percent(int silos)
    {
        var ring = new HashRing(Enumerable.Range(1, silos).Select(i => $"10.0.0.{i}:11111@7").ToArray(), 128);

        var shares = Keys.GroupBy(ring.Owner).ToDictionary(g => g.Key!, g => g.Count());

        Assert.Equal(silos, shares.Count);
        var fair = Keys.Length / (double)silos;
        Assert.All(shares.Values, count => Assert.InRange(count, fair * 0.8, fair * 1.2));
    }

    [Fact]
    public void Owner_FourthSiloJoins_OnlyKeysMovingToItMoveAndAboutAQuarterOfThem()
    {
        string[] three = ["10.0.0.1:11111@1", "10.0.0.2:11111@1", "10.0.0.3:11111@1"];
        var before = new HashRing(three, 128);
        var after = new HashRing([.. three, "10.0.0.4:11111@1"], 128);

        var moved = Keys.Where(k => before.Owner(k) != after.Owner(k)).ToArray();

        Assert.All(moved, k => Assert.Equal("10.0.0.4:11111@1", after.Owner(k)));
        Assert.InRange(moved.Length, Keys.Length * 0.15, Keys.Length * 0.35);
    }

    [Theory]
    [InlineData("room", "RealtimeHub/chat/lobby")]
    [InlineData("", "")]
    [InlineData("session", "RealtimeHub/é漢")]
    public void Hash64_OfPartsWithSeparator_EqualsTheHashOfTheJoinedString(string type, string key) =>
        Assert.Equal(Realtime.Runtime.Internal.StableHash.Hash64($"{type}/{key}"), Realtime.Runtime.Internal.StableHash.Hash64(type, '/', key));

    [Fact]
    public void Owner_NoActiveSilo_IsNull() => Assert.Null(HashRing.Empty.Owner(Keys[0]));
}
