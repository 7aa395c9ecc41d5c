using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.TestingHost;
using Realtime.Contracts;
using Realtime.Contracts.Hosting;
using Realtime.Grains;
using Realtime.Grains.Gateways;

namespace Realtime.Tests.Grains;

/// <summary>
/// Orleans' in-process test cluster with the realtime grains on its silos, each silo a gateway whose connections the
/// tests make up (<see cref="FakeGateway"/>), and failure detection shortened to seconds.
/// </summary>
public sealed class GrainClusterFixture : IAsyncLifetime, IAsyncDisposable
{
    private readonly short _silos;
    private readonly int? _lastSiloReads;

    public GrainClusterFixture()
        : this(2)
    {
    }

    private GrainClusterFixture(short silos, int? lastSiloReads = null) => (_silos, _lastSiloReads) = (silos, lastSiloReads);

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cluster:RebuildTimeout"] = "00:00:03",
            ["Cluster:DepartureCheckPeriod"] = "00:00:00.100",
        }).Build();
        var builder = new InProcessTestClusterBuilder(_silos);
        builder.ConfigureSilo((options, silo) =>
        {
            silo.Configure<ClusterMembershipOptions>(options =>
            {
                options.ProbeTimeout = TimeSpan.FromSeconds(1);
                options.MaxProbeTimeout = TimeSpan.FromSeconds(2);
                options.NumMissedProbesLimit = 2;
            });
            silo.AddMemoryGrainStorage(RealtimeStorage.PubSubStore);
            silo.AddRealtimeGrains(configuration);
            silo.Services.AddSingleton<ILocalGateway, FakeGatewayHost>();

            // Every silo says it reads this version, as the realtime hosting has it say; the last one, in a cluster made
            // so, an earlier one, as in a rolling upgrade.
            var reads = _lastSiloReads is { } earlier && options.SiloName == $"Silo_{_silos - 1}" ? earlier : PayloadForms.Version;
            silo.UseSiloMetadata(new Dictionary<string, string> { [PayloadForms.Key] = reads.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        });
        builder.ConfigureClient(client => client.Services.AddRealtimeSerialization());
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    /// <summary>A cluster of its own, for a test that kills silos; or whose last silo says it reads <paramref name="lastSiloReads"/> (see <see cref="PayloadForms"/>).</summary>
    public static async Task<GrainClusterFixture> StartAsync(short silos, int? lastSiloReads = null)
    {
        var fixture = new GrainClusterFixture(silos, lastSiloReads);
        await fixture.InitializeAsync();
        return fixture;
    }

    /// <summary>The silo that holds the grain's activation now.</summary>
    public InProcessSiloHandle SiloOf(GrainId grain) =>
        Cluster.TryGetGrainContext(grain, out var context)
            ? Cluster.Silos.Single(s => s.SiloAddress.Equals(context.Address.SiloAddress))
            : throw new InvalidOperationException($"{grain} is not active.");

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>A hub no other test uses, so that each test's gateways are the only ones its grains know.</summary>
    public static string NewHub() => $"TestHub{Guid.NewGuid():N}";

    /// <summary>Two gateways of a new hub, on the cluster's first two silos, registered with the hub.</summary>
    public async Task<(FakeGateway A, FakeGateway B)> TwoGatewaysAsync()
    {
        var hub = NewHub();
        var a = new FakeGateway(Client, Cluster.Silos[0], hub, "a");
        var b = new FakeGateway(Client, Cluster.Silos[1], hub, "b");
        await a.RegisterAsync();
        await b.RegisterAsync();
        return (a, b);
    }
}
