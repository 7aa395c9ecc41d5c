using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Realtime.Client.Hosting;
using Realtime.Gateway.SignalR;

namespace Realtime.Tests.Infrastructure.Processes;

/// <summary>
/// A cluster of separate OS processes on loopback: its own <c>redis-server</c>, gateways (silos that hold client
/// connections) and silos without connections, started from their build output with the settings they ship with.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    /// <summary>
    /// What the tests change of the shipped settings: internal services (Orleans clients) read which silos are alive
    /// every second, so that one whose silo died moves on without waiting for the shipped 5 s.
    /// </summary>
    public static readonly string[] TestSettings = ["--Cluster:SiloListRefreshPeriod=00:00:01"];

    /// <summary>For every node of a test that needs its rooms on the silos without connections (and nowhere else).</summary>
    public static readonly string[] GrainsOnSilos = ["--Cluster:GrainPlacement=GrainSilos"];

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };

    private readonly List<NodeProcess> _silos = [];
    private readonly List<NodeProcess> _gateways = [];
    private readonly List<NodeProcess> _services = [];
    private readonly string _clusterId = $"test-{Guid.NewGuid():N}"[..13];
    private readonly string _redisData = Directory.CreateTempSubdirectory("realtime-redis-").FullName;
    private int _redisPort;
    private IHost? _client;
    private IsolatedNetwork? _network;
    private (string Project, string Assembly) _gatewayProgram = StockGateway;

    /// <summary>The stock gateway.</summary>
    public static readonly (string Project, string Assembly) StockGateway = ("Gateway.Host", "Realtime.Gateway.Host.dll");

    /// <summary>The gateway of the socket.io sample: the flask-socketio test page's events and the page.</summary>
    public static readonly (string Project, string Assembly) SocketIOTestPage = (Path.Combine("samples", "SocketIOTestPage"), "Realtime.Samples.SocketIOTestPage.dll");

    /// <summary>An application's own hub and page made clustered (<c>samples/ExistingApp</c>), as a gateway: its <c>ChatHub</c> at <c>/chat</c>.</summary>
    public static readonly (string Project, string Assembly) ExistingApp = (Path.Combine("samples", "ExistingApp"), "Realtime.Samples.ExistingApp.dll");

    private TestCluster()
    {
    }

    public NodeProcess Redis { get; private set; } = null!;

    public IReadOnlyList<NodeProcess> Silos => _silos;

    public IReadOnlyList<NodeProcess> Gateways => _gateways;

    /// <summary>The cluster's id, as the membership table and Orleans' Kubernetes hosting's pod labels name it.</summary>
    public string ClusterId => _clusterId;

    /// <summary>
    /// Starts Redis, the silos and the gateways. <paramref name="gatewayProgram"/> is the gateway's assembly, as
    /// <see cref="Build.Output"/> finds it: the stock gateway by default. With <paramref name="isolated"/>, each node runs
    /// in a network namespace of its own (<see cref="IsolatedNetwork"/>), so that a test can cut the link between two of
    /// them (<see cref="Cut"/>).
    /// </summary>
    public static async Task<TestCluster> StartAsync(
        int silos = 2, int gateways = 2, (string Project, string Assembly)? gatewayProgram = null, string[]? gatewayArguments = null, string[]? siloArguments = null,
        bool isolated = false)
    {
        var cluster = new TestCluster { _gatewayProgram = gatewayProgram ?? StockGateway };
        try
        {
            cluster._network = isolated ? IsolatedNetwork.Create() : null;
            cluster._redisPort = NodeProcess.FreePort();
            await cluster.StartRedisAsync();
            await Task.WhenAll(Enumerable.Range(0, silos).Select(_ => cluster.StartSiloAsync(siloArguments ?? [])));
            await Task.WhenAll(Enumerable.Range(0, gateways).Select(_ => cluster.StartGatewayAsync(gatewayArguments ?? [])));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts (or restarts, on the same port) the cluster's Redis, which keeps Orleans' membership table and the hubs'
    /// registries on disk, as a deployed one must: Orleans takes a silo that finds itself gone from a newer table
    /// for dead.
    /// </summary>
    public async Task StartRedisAsync()
    {
        Redis = NodeProcess.StartRedis(_redisPort, _redisData, _network?.HostAddress);
        await Eventually.True(() => NodeProcess.CanConnect(_redisPort), "redis-server accepts connections", TimeSpan.FromSeconds(15));
    }

    public Task<NodeProcess> StartSiloAsync(params string[] extraArguments) => StartSiloWithAsync(null, extraArguments);

    /// <summary>Starts a silo without connections with <paramref name="environment"/> (a pod's, say) besides the cluster's settings.</summary>
    public async Task<NodeProcess> StartSiloWithAsync(Func<string, IDictionary<string, string>>? environment, params string[] extraArguments)
    {
        var httpPort = NodeProcess.FreePort();
        var siloPort = NodeProcess.FreePort();
        var gatewayPort = NodeProcess.FreePort();
        var name = $"silo{_silos.Count}";
        var silo = StartNode(
            name,
            [Build.Output("Silo", "Realtime.Silo.dll"), .. ClusterArguments(), .. extraArguments, $"--Cluster:SiloPort={siloPort}", $"--Cluster:GatewayPort={gatewayPort}", $"--Silo:HttpPort={httpPort}"],
            httpPort,
            environment?.Invoke(name));
        silo.GatewayPort = gatewayPort;
        silo.SiloPort = siloPort;
        lock (_silos)
        {
            _silos.Add(silo);
        }

        await WaitReadyAsync(silo);
        return silo;
    }

    public async Task<NodeProcess> StartGatewayAsync(params string[] extraArguments)
    {
        var httpPort = NodeProcess.FreePort();
        var gatewayPort = NodeProcess.FreePort();
        var siloPort = NodeProcess.FreePort();
        var name = $"gw{_gateways.Count}";

        var gateway = StartNode(
            name,
            [
                Build.Output(_gatewayProgram.Project, _gatewayProgram.Assembly), .. ClusterArguments(), .. extraArguments, "--Gateway:Mode=Cluster",
                $"--Cluster:SiloPort={siloPort}", $"--Cluster:GatewayPort={gatewayPort}", $"--Urls=http://{{host}}:{httpPort}", $"--Gateway:Name={name}",
                $"--Auth:HmacKey={TestTokens.HmacKey}",
            ],
            httpPort);
        gateway.GatewayPort = gatewayPort;
        gateway.SiloPort = siloPort;
        lock (_gateways)
        {
            _gateways.Add(gateway);
        }

        await WaitReadyAsync(gateway);
        return gateway;
    }

    /// <summary>
    /// Runs the sample internal service (<c>samples/EmitterService</c>) as a separate client process of this cluster
    /// and returns its exit code, its result (standard output) and, when it failed, its error output too.
    /// </summary>
    public Task<(int ExitCode, string Output)> RunServiceAsync(params string[] command) => RunServiceWithAsync(ClusterArguments(), command);

    /// <summary>The same, with the settings given instead of this cluster's (a fixed list of silos, say).</summary>
    public async Task<(int ExitCode, string Output)> RunServiceWithAsync(IEnumerable<string> settings, params string[] command)
    {
        var service = NodeProcess.Start(
            "service",
            "dotnet",
            [Build.Output(Path.Combine("samples", "EmitterService"), "Realtime.Samples.Emitter.dll"), .. settings, "--Client:ServiceName=service", .. command],
            0);
        await using (service)
        {
            int exitCode;
            try
            {
                exitCode = await service.WaitForExitCodeAsync(TimeSpan.FromSeconds(60));
            }
            catch (TimeoutException ex)
            {
                throw new TimeoutException($"{ex.Message} It printed:{Environment.NewLine}{Tail(service.Output)}");
            }

            return (exitCode, (exitCode == 0 ? service.StandardOutput : service.Output).Trim());
        }
    }

    /// <summary>
    /// Starts a long-running sample service (<c>samples/ArchiveService</c>, say) as a client process of this cluster;
    /// it runs until disposed.
    /// </summary>
    public NodeProcess StartService(string name, (string Project, string Assembly) program, params string[] settings)
    {
        var service = NodeProcess.Start(name, "dotnet", [Build.Output(program.Project, program.Assembly), .. ClusterArguments(), .. settings], 0);
        _services.Add(service);
        return service;
    }

    /// <summary>The sample that archives a namespace's client events from their stream.</summary>
    public static readonly (string Project, string Assembly) ArchiveService = (Path.Combine("samples", "ArchiveService"), "Realtime.Samples.Archive.dll");

    /// <summary>Connects to a gateway's RealtimeHub; with <paramref name="user"/>, as that user (a JWT the gateways accept).</summary>
    public Task<SignalRTestClient> ConnectAsync(NodeProcess gateway, string name, string? @namespace = null, string? user = null)
    {
        var path = string.IsNullOrEmpty(@namespace) ? "/realtime" : "/realtime/" + Uri.EscapeDataString(@namespace);
        var query = user is null ? "" : $"?access_token={Uri.EscapeDataString(TestTokens.Create(user))}";
        return SignalRTestClient.ConnectAsync(new Uri($"ws://{gateway.Host}:{gateway.Port}{path}{query}"), name);
    }

    /// <summary>The node (silo or gateway) whose silo holds a grain's activation now; null when it is not active.</summary>
    public async Task<NodeProcess?> NodeHoldingAsync(string grainId)
    {
        var grains = (await OrleansClientAsync()).GetRequiredService<IGrainFactory>();
        var address = await grains.GetGrain<IManagementGrain>(0).GetActivationAddress(grains.GetGrain(GrainId.Parse(grainId))).AsTask().Within($"where {grainId} lives");
        return address is null ? null : _silos.Concat(_gateways).Single(node => node.SiloPort == address.Endpoint.Port);
    }

    /// <summary>
    /// An Orleans client of this cluster in the test process (the client library, as a service uses it), made on first
    /// use and disposed with the cluster.
    /// </summary>
    public async Task<IServiceProvider> OrleansClientAsync() => (_client ??= await StartClientAsync(ClusterArguments())).Services;

    /// <summary>
    /// An Orleans client of this cluster that enters it only through <paramref name="through"/> (their gateway ports):
    /// one that a frozen silo cannot hold up. The caller disposes it.
    /// </summary>
    public Task<IHost> OrleansClientThroughAsync(params NodeProcess[] through) =>
        StartClientAsync([
            .. ClusterArguments().Where(s => !s.StartsWith("--Cluster:Redis=", StringComparison.Ordinal)),
            .. through.Select((node, i) => $"--Cluster:Silos:{i}={node.Host}:{node.GatewayPort}"),
        ]);

    private static async Task<IHost> StartClientAsync(string[] settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddCommandLine([.. settings, "--Logging:LogLevel:Default=Warning"]);
        builder.Services.AddRealtimeClusterClient(builder.Configuration);
        var client = builder.Build();
        await client.StartAsync().Within("an Orleans client of the test cluster to connect", TimeSpan.FromSeconds(30));
        return client;
    }

    /// <summary>The grain id of a room of the RealtimeHub, as <see cref="NodeHoldingAsync"/> takes it.</summary>
    public static string RoomGrain(string room, string @namespace = "/") => $"room/RealtimeHub{@namespace}/{room}";

    public static async Task<string> GetAsync(NodeProcess node, string path) =>
        await Http.GetStringAsync(new Uri($"http://{node.Host}:{node.Port}{path}"));

    public async ValueTask DisposeAsync()
    {
        if (Environment.GetEnvironmentVariable("REALTIME_TEST_LOGS") is { Length: > 0 } logs)
        {
            var folder = Directory.CreateDirectory(Path.Combine(logs, _clusterId)).FullName;
            foreach (var node in _gateways.Concat(_silos).Concat(_services))
            {
                await File.WriteAllTextAsync(Path.Combine(folder, node.Name + ".log"), node.Output);
            }
        }

        if (_client is not null)
        {
            await _client.StopAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _client.Dispose();
        }

        foreach (var node in _gateways.Concat(_silos).Append(Redis).Where(n => n is not null))
        {
            await node.DisposeAsync();
        }

        _network?.Dispose();
        Directory.Delete(_redisData, recursive: true);
    }

    /// <summary>
    /// Drops every packet between two nodes of an isolated cluster, both ways, until <see cref="Heal"/>; each still
    /// reaches Redis, the test and every other node.
    /// </summary>
    public static void Cut(NodeProcess a, NodeProcess b) =>
        IsolatedNetwork.Cut(a.Namespace ?? throw new InvalidOperationException("Only nodes of a cluster started isolated can be cut apart."), b.Host);

    /// <summary>Carries packets between <paramref name="a"/> and the node it was cut from again.</summary>
    public static void Heal(NodeProcess a) => IsolatedNetwork.Heal(a.Namespace!);

    /// <summary>
    /// Starts a node (<paramref name="arguments"/>: its assembly and settings, where <c>{host}</c> stands for its
    /// address) on loopback, or in a namespace of its own when the cluster is isolated.
    /// </summary>
    private NodeProcess StartNode(string name, string[] arguments, int httpPort, IDictionary<string, string>? environment = null)
    {
        if (_network is null)
        {
            return NodeProcess.Start(name, "dotnet", arguments.Select(a => a.Replace("{host}", "127.0.0.1", StringComparison.Ordinal)), httpPort, environment);
        }

        var (ns, address) = _network.AddNode();
        var (fileName, command) = IsolatedNetwork.In(
            ns, "dotnet", [.. arguments.Select(a => a.Replace("{host}", address, StringComparison.Ordinal)), $"--Cluster:ListenAddress={address}", $"--Cluster:AdvertisedHost={address}"]);
        var node = NodeProcess.Start(name, fileName, command, httpPort, environment);
        node.Host = address;
        node.Namespace = ns;
        return node;
    }

    /// <summary>
    /// The settings that make a gateway (one in this test process, say) a gateway silo of this cluster, on ports of its
    /// own.
    /// </summary>
    public string[] GatewayArguments(string name) =>
    [
        .. ClusterArguments(), "--Gateway:Mode=Cluster", $"--Gateway:Name={name}",
        $"--Cluster:SiloPort={NodeProcess.FreePort()}", $"--Cluster:GatewayPort={NodeProcess.FreePort()}",
    ];

    /// <summary>The settings that make any process (a service, a silo, a gateway) a node of this cluster.</summary>
    public string[] ClusterArguments() =>
    [
        $"--Cluster:Redis={_network?.HostAddress ?? "127.0.0.1"}:{_redisPort}", $"--Cluster:ClusterId={_clusterId}", "--Cluster:ListenAddress=127.0.0.1", "--Cluster:AdvertisedHost=127.0.0.1",
        "--Logging:LogLevel:Default=Information", "--Logging:LogLevel:Microsoft.AspNetCore=Warning", "--Logging:LogLevel:Orleans=Warning",
        "--Logging:LogLevel:Polly=Warning", "--Logging:LogLevel:Orleans.Runtime.MembershipService=Information", "--Logging:Console:TimestampFormat=HH:mm:ss.fff ", .. TestSettings,
    ];

    /// <summary>Waits until a node answers <c>/healthz/ready</c>, or fails with its output when it exits or takes over 60 s.</summary>
    public static async Task WaitReadyAsync(NodeProcess node)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (node.HasExited)
            {
                throw new InvalidOperationException($"{node.Name} exited during start-up:{Environment.NewLine}{node.Output}");
            }

            try
            {
                using var response = await Http.GetAsync(new Uri($"http://{node.Host}:{node.Port}/healthz/ready"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{node.Name} did not become ready:{Environment.NewLine}{node.Output}");
            }

            await Task.Delay(100);
        }
    }

    private static string Tail(string text) => text.Length <= 6000 ? text : text[^6000..];
}

/// <summary>Finds the build output of the solution's projects, in the configuration the tests were built in.</summary>
public static class Build
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Configuration { get; } = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    public static string Output(string project, string file)
    {
        var path = Path.Combine(RepositoryRoot, project, "bin", Configuration, "net10.0", file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build the solution first.");
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Orleans.Realtime.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Orleans.Realtime.sln not found above the test assembly.");
    }
}
