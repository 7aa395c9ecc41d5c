using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;
using Realtime.Grains;
using Realtime.Grains.Hosting;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Grains;

/// <summary>
/// Orleans' in-process test cluster with the realtime grains on two silos, their grain storage in a real
/// <c>redis-server</c> (as in a deployed cluster, it outlives any silo), and gateway leases shortened to seconds.
/// </summary>
public sealed class GrainClusterFixture : IAsyncLifetime, IAsyncDisposable
{
    private readonly short _silos;

    public GrainClusterFixture()
        : this(2)
    {
    }

    private GrainClusterFixture(short silos) => _silos = silos;

    /// <summary>Gateway leases for these tests: renewed every 200 ms, run out 1 s after the last renewal.</summary>
    public static readonly TimeSpan LeaseRenewal = TimeSpan.FromMilliseconds(200);

    public static readonly TimeSpan LeaseTimeout = TimeSpan.FromSeconds(1);

    private NodeProcess? _redis;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var redisPort = NodeProcess.FreePort();
        _redis = NodeProcess.StartRedis(redisPort);
        await Infrastructure.Eventually.True(() => NodeProcess.CanConnect(redisPort), "redis-server accepts connections", TimeSpan.FromSeconds(15));

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cluster:GatewayLease:RenewPeriod"] = LeaseRenewal.ToString(),
            ["Cluster:GatewayLease:Timeout"] = LeaseTimeout.ToString(),
            ["Cluster:GatewayLease:CheckPeriod"] = "00:00:00.100",
            ["Cluster:GatewayLease:RebuildTimeout"] = "00:00:03",
        }).Build();
        var builder = new InProcessTestClusterBuilder(_silos);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddRedisGrainStorage(RealtimeStorage.Name, storage => storage.Configure<Serializer>((options, serializer) =>
            {
                options.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse($"127.0.0.1:{redisPort}");
                options.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
            }));
            silo.AddRealtimeGrains(configuration);
        });
        builder.ConfigureClient(client => client.Services.AddRealtimeSerialization());
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    /// <summary>A cluster of its own, for a test that kills silos.</summary>
    public static async Task<GrainClusterFixture> StartAsync(short silos)
    {
        var fixture = new GrainClusterFixture(silos);
        await fixture.InitializeAsync();
        return fixture;
    }

    /// <summary>The silo that holds the grain's activation now.</summary>
    public InProcessSiloHandle SiloOf(GrainId grain) =>
        Cluster.TryGetGrainContext(grain, out var context)
            ? Cluster.Silos.Single(s => s.SiloAddress.Equals(context.Address.SiloAddress))
            : throw new InvalidOperationException($"{grain} is not active.");

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    /// <summary>A hub no other test uses, so that each test's gateways are the only ones its grains know.</summary>
    public static string NewHub() => $"TestHub{Guid.NewGuid():N}";

    /// <summary>Two gateways of a new hub, holding their leases.</summary>
    public async Task<(FakeGateway A, FakeGateway B)> TwoGatewaysAsync()
    {
        var hub = NewHub();
        var a = new FakeGateway(Client, hub, "a");
        var b = new FakeGateway(Client, hub, "b");
        await a.StartRenewing(LeaseRenewal);
        await b.StartRenewing(LeaseRenewal);
        return (a, b);
    }
}
