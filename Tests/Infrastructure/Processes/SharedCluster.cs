using Realtime.Tests.Spec;

namespace Realtime.Tests.Infrastructure.Processes;

/// <summary>
/// The cluster that the tests which do not break it share: Redis, two silos, two gateways of the socket.io sample
/// (which serve the RealtimeHub too) and nginx round robin in front of them. Connection state recovery is on, the HTTP
/// API takes <see cref="ApiKey"/>, and rooms keep <see cref="HistoryMessages"/> messages on the silos without
/// connections. Tests keep apart by their own room names; a test that kills a node starts a cluster of its own.
/// </summary>
public sealed class SharedCluster : IAsyncLifetime, IRealtimeHost
{
    public const string ApiKey = "shared-cluster-key-0123456789";

    /// <summary>How many messages each room and session keeps, so that a test can miss more than that.</summary>
    public const int HistoryMessages = 40;

    /// <summary>
    /// Every node: the short history, and the rooms on the silos without connections, so that they outlive a gateway
    /// that is killed (the durable setup, <c>Cluster:GrainPlacement</c>).
    /// </summary>
    public static readonly string[] SiloSettings = [$"--History:MaxMessages={HistoryMessages}", .. TestCluster.GrainsOnSilos];

    /// <summary>
    /// The permission rule of the room spec's hosts: in the default namespace only a room's members may close it.
    /// (Declared before <see cref="GatewaySettings"/>, which uses it.)
    /// </summary>
    public static readonly string[] OnlyMembersClose = ["--Permissions:Namespaces:0:Namespace=/", "--Permissions:Namespaces:0:Close=Members"];

    /// <summary>
    /// Gateways: the same, with socket.io connection state recovery on, the HTTP API, and one permission rule: only a
    /// room's members may close it.
    /// </summary>
    public static readonly string[] GatewaySettings = [.. SiloSettings, "--SocketIO:ConnectionStateRecovery:Enabled=true", $"--Api:Keys:0={ApiKey}", .. OnlyMembersClose];

    public TestCluster Cluster { get; private set; } = null!;

    public NodeProcess Nginx { get; private set; } = null!;

    public string Balancer => $"http://127.0.0.1:{Nginx.Port}";

    public IReadOnlyList<Uri> Gateways => [.. Cluster.Gateways.Select(g => new Uri($"http://127.0.0.1:{g.Port}"))];

    public string Name => "cluster";

    string IRealtimeHost.ApiKey => ApiKey;

    public string Gateway(int i) => $"http://127.0.0.1:{Cluster.Gateways[i].Port}";

    /// <summary>Starts a cluster like this one, for a test that breaks it.</summary>
    public static Task<TestCluster> StartOwnAsync() =>
        TestCluster.StartAsync(silos: 2, gateways: 2, gatewayProgram: TestCluster.SocketIOTestPage, gatewayArguments: GatewaySettings, siloArguments: SiloSettings);

    public async Task InitializeAsync()
    {
        Cluster = await StartOwnAsync();
        Nginx = await Processes.Nginx.StartAsync(Cluster.Gateways);
    }

    public async Task DisposeAsync()
    {
        await Nginx.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}

/// <summary>The tests on the shared cluster run one at a time, and not beside other tests that start processes.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SharedClusterCollection : ICollectionFixture<SharedCluster>
{
    public const string Name = "shared cluster";
}

/// <summary>
/// One gateway process of the socket.io sample in the default, embedded mode (its own silo in the process), with
/// connection state recovery on, the HTTP API, the tests' tokens and the shared cluster's permission rule: the
/// single-process hosting mode, as the README's first command runs it.
/// </summary>
public sealed class EmbeddedGateway : IAsyncLifetime, IRealtimeHost
{
    private NodeProcess? _process;

    public IReadOnlyList<Uri> Gateways => [new Uri($"http://127.0.0.1:{Process.Port}")];

    public string Name => "embedded";

    public string ApiKey => SharedCluster.ApiKey;

    public NodeProcess Process => _process ?? throw new InvalidOperationException("The gateway has not started.");

    public async Task InitializeAsync()
    {
        var port = NodeProcess.FreePort();
        _process = NodeProcess.Start(
            "embedded",
            "dotnet",
            [
                Build.Output(TestCluster.SocketIOTestPage.Project, TestCluster.SocketIOTestPage.Assembly), $"--Urls=http://127.0.0.1:{port}",
                "--SocketIO:ConnectionStateRecovery:Enabled=true", $"--Api:Keys:0={ApiKey}", $"--Auth:HmacKey={TestTokens.HmacKey}", .. SharedCluster.OnlyMembersClose,
                "--Logging:LogLevel:Default=Warning",
            ],
            port);
        await TestCluster.WaitReadyAsync(_process);
    }

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }
}

/// <summary>The tests on the embedded gateway share it and run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class EmbeddedGatewayCollection : ICollectionFixture<EmbeddedGateway>
{
    public const string Name = "embedded gateway";
}
