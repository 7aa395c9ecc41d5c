using Realtime.Bench.Clients;

namespace Realtime.Bench.Systems;

/// <summary>
/// One system the harness measures, running: its server processes (every one counted for CPU and memory), the
/// addresses clients connect to (spread round robin), and the protocol they speak.
/// </summary>
public sealed class SystemUnderTest : IAsyncDisposable
{
    private readonly List<ServerProcess> _processes = [];
    private readonly List<ServerProcess> _edges = [];

    private SystemUnderTest(SystemKind kind) => Kind = kind;

    public SystemKind Kind { get; }

    public Protocol Protocol => Kind.Protocol;

    /// <summary>The HTTP base addresses of the processes that hold client connections.</summary>
    public IReadOnlyList<Uri> Endpoints => _edges.Select(p => new Uri($"http://127.0.0.1:{p.Port}")).ToList();

    /// <summary>Every server process: gateways, silos, Node processes and Redis alike.</summary>
    public IReadOnlyList<int> ServerPids => _processes.Select(p => p.Pid).ToList();

    /// <summary>The port of the Redis that holds this project's cluster's membership table (cluster id <c>bench</c>); null for other systems.</summary>
    public int? MembershipRedisPort { get; private set; }

    /// <summary>
    /// How many rows of the cluster's membership table say their silo was declared dead (Orleans' Redis clustering
    /// keeps each row as JSON); 0 for a system without one.
    /// </summary>
    public async Task<int> DeclaredDeadAsync()
    {
        if (MembershipRedisPort is not { } port)
        {
            return 0;
        }

        var info = new System.Diagnostics.ProcessStartInfo("redis-cli", ["-p", $"{port}", "HGETALL", "realtime/members/bench"]) { RedirectStandardOutput = true };
        using var cli = System.Diagnostics.Process.Start(info)!;
        var rows = await cli.StandardOutput.ReadToEndAsync();
        await cli.WaitForExitAsync();
        return System.Text.RegularExpressions.Regex.Matches(rows, @"""Status""\s*:\s*(""Dead""|6)\b").Count;
    }

    /// <summary>The HTTP ports of this project's gateways and silos, where each serves its Prometheus metrics.</summary>
    public IReadOnlyList<int> MetricsPorts => Kind.IsOurs ? _processes.Where(p => p.Name != "redis").Select(p => p.Port).ToList() : [];

    /// <summary>Reads the system's <see cref="Measure.WorkCounters"/> now.</summary>
    public Task<Measure.WorkCounters> WorkCountersAsync() => Measure.WorkCounters.ReadAsync(ServerPids, MetricsPorts);

    /// <summary>Every server process by name (gw0, silo1, node0, redis...).</summary>
    public IReadOnlyList<(string Name, int Pid)> Processes => _processes.Select(p => (p.Name, p.Pid)).ToList();

    /// <summary>The processes holding the client connections: the gateways, or the Node processes.</summary>
    public IReadOnlyList<int> EdgePids => _edges.Select(p => p.Pid).ToList();

    /// <summary>The server processes that have ended since the system started: each a crash, as none is stopped before the end.</summary>
    public IReadOnlyList<string> Exited => _processes.Where(p => p.HasExited && !_killed.Contains(p.Name)).Select(p => p.Name).ToList();

    public string Output => string.Join(Environment.NewLine, _processes.Select(p => $"--- {p.Name}{Environment.NewLine}{p.Output}"));

    private BuildOutput _build = null!;
    private SystemShape _shape = new();
    private readonly HashSet<string> _killed = [];
    private string[] _clusterSettings = [];

    /// <summary>The silos, by name (none for systems without).</summary>
    public IReadOnlyList<string> Silos => _processes.Where(p => p.Name.StartsWith("silo", StringComparison.Ordinal)).Select(p => p.Name).ToList();

    /// <summary>kill -9 of one of the system's processes, on purpose: not counted as a crash.</summary>
    public void Kill(string name)
    {
        var process = _processes.Single(p => p.Name == name);
        _killed.Add(name);
        process.Kill();
    }

    /// <summary>Starts a silo again in the place of one that was killed, so that later scenarios have the whole cluster.</summary>
    public async Task RestartSiloAsync(string name)
    {
        var old = _processes.Single(p => p.Name == name);
        _processes.Remove(old);
        await old.DisposeAsync();
        _killed.Remove(name);
        await StartSilo(name).WaitReadyAsync();
    }

    public static async Task<SystemUnderTest> StartAsync(SystemKind kind, BuildOutput build, SystemShape? shape = null)
    {
        var system = new SystemUnderTest(kind) { _build = build, _shape = shape ?? new SystemShape() };
        try
        {
            await (kind.Name switch
            {
                SystemKind.ClusterName => system.StartClusterAsync(build, socketIO: false, silos: 0),
                SystemKind.ClusterSilosName => system.StartClusterAsync(build, socketIO: false, silos: 2),
                SystemKind.ClusterSocketIOName => system.StartClusterAsync(build, socketIO: true, silos: 0),
                SystemKind.EmbeddedName => system.StartEmbeddedAsync(build, socketIO: false),
                SystemKind.EmbeddedSocketIOName => system.StartEmbeddedAsync(build, socketIO: true),
                SystemKind.SignalRName => system.StartPlainSignalRAsync(build),
                SystemKind.SocketIOName => system.StartSocketIOAsync(build),
                _ => throw new ArgumentException("Unknown system " + kind.Name),
            });
            return system;
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Edges first, so that no server sees its back end go before its clients.
        foreach (var process in Enumerable.Reverse(_processes))
        {
            await process.DisposeAsync();
        }
    }

    /// <summary>Settings every .NET server gets: loopback, and logs at Warning so that no system pays for logging.</summary>
    private static readonly string[] QuietLogging = ["--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.AspNetCore=Warning"];

    /// <summary>
    /// What the shipped gateway's runtimeconfig.json sets and the harness's own does not, for the gateway the harness
    /// serves itself (socket.io events): no spinning of idle thread-pool workers, and workstation GC.
    /// </summary>
    private static readonly Dictionary<string, string> ShippedGatewayRuntime = new()
    {
        ["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0",
        ["DOTNET_gcServer"] = "0",
        [ShippedImageVariable] = ShippedImageValue,
    };

    /// <summary>What the gateway's and the silo's container images set in their environment (their Dockerfiles).</summary>
    private const string ShippedImageVariable = "DOTNET_TC_CallCountingDelayMs";

    private const string ShippedImageValue = "0";

    /// <summary>The environment of this project's gateways and silos, as their images run them.</summary>
    private static readonly Dictionary<string, string> ShippedImage = new() { [ShippedImageVariable] = ShippedImageValue };

    private async Task<ServerProcess> StartRedisAsync()
    {
        var port = ServerProcess.FreePort();
        var redis = Add(ServerProcess.Start("redis", "redis-server", ["--port", $"{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], port));
        await redis.WaitReadyAsync(tcpOnly: true);
        return redis;
    }

    /// <summary>
    /// Redis, <paramref name="silos"/> silos without connections (where the grains then live), and the gateways, which
    /// are silos too.
    /// </summary>
    private async Task StartClusterAsync(BuildOutput build, bool socketIO, int silos)
    {
        var redis = await StartRedisAsync();
        MembershipRedisPort = redis.Port;
        string[] cluster =
        [
            $"--Cluster:Redis=127.0.0.1:{redis.Port}", "--Cluster:ClusterId=bench", "--Cluster:ListenAddress=127.0.0.1",
            "--Cluster:AdvertisedHost=127.0.0.1", .. QuietLogging,
            // With silos without connections, the grains live there (and not on the gateways): that system's point.
            .. silos > 0 ? ["--Cluster:GrainPlacement=GrainSilos"] : Array.Empty<string>(),
        ];
        _clusterSettings = cluster;
        await Task.WhenAll(Enumerable.Range(0, silos).Select(i => StartSilo($"silo{i}").WaitReadyAsync()));

        var gateways = Enumerable.Range(0, _shape.Edges).Select(i =>
        {
            var http = ServerProcess.FreePort();
            string[] settings =
            [
                .. cluster, .. _shape.GatewaySettings, "--Gateway:Mode=Cluster", $"--Urls=http://127.0.0.1:{http}", $"--Gateway:Name=gw{i}",
                $"--Gateway:InternalUrl=http://127.0.0.1:{http}", $"--Cluster:SiloPort={ServerProcess.FreePort()}", $"--Cluster:GatewayPort={ServerProcess.FreePort()}",
            ];
            return AddEdge(socketIO
                ? ServerProcess.Start($"gw{i}", "dotnet", [build.Bench, "serve-gateway", .. settings], http, Path.GetDirectoryName(build.Bench), ShippedGatewayRuntime)
                : ServerProcess.Start($"gw{i}", "dotnet", [build.Gateway, .. settings], http, Path.GetDirectoryName(build.Gateway), ShippedImage));
        }).ToList();
        await Task.WhenAll(gateways.Select(g => g.WaitReadyAsync()));
    }

    private ServerProcess StartSilo(string name)
    {
        var http = ServerProcess.FreePort();
        return Add(ServerProcess.Start(name, "dotnet", [_build.Silo, .. _clusterSettings, $"--Cluster:SiloPort={ServerProcess.FreePort()}", $"--Cluster:GatewayPort={ServerProcess.FreePort()}", $"--Silo:HttpPort={http}"], http, Path.GetDirectoryName(_build.Silo), ShippedImage));
    }

    /// <summary>One gateway with its own cluster in the process: the stock one, or (socket.io) the harness's with the bench's events.</summary>
    private async Task StartEmbeddedAsync(BuildOutput build, bool socketIO)
    {
        var http = ServerProcess.FreePort();
        string[] settings = [.. QuietLogging, .. _shape.GatewaySettings, $"--Urls=http://127.0.0.1:{http}"];
        await AddEdge(socketIO
            ? ServerProcess.Start("gateway", "dotnet", [build.Bench, "serve-gateway", .. settings], http, Path.GetDirectoryName(build.Bench), ShippedGatewayRuntime)
            : ServerProcess.Start("gateway", "dotnet", [build.Gateway, .. settings], http, Path.GetDirectoryName(build.Gateway), ShippedImage)).WaitReadyAsync();
    }

    private async Task StartPlainSignalRAsync(BuildOutput build)
    {
        var http = ServerProcess.FreePort();
        await AddEdge(ServerProcess.Start("signalr", "dotnet", [build.Bench, "serve-signalr", .. QuietLogging, $"--Urls=http://127.0.0.1:{http}"], http, Path.GetDirectoryName(build.Bench))).WaitReadyAsync();
    }

    private async Task StartSocketIOAsync(BuildOutput build)
    {
        var redis = await StartRedisAsync();
        var nodes = Enumerable.Range(0, _shape.Edges).Select(i =>
        {
            var http = ServerProcess.FreePort();
            return AddEdge(ServerProcess.Start($"node{i}", "node", [build.SocketIOServer, $"{http}", $"{redis.Port}"], http, Path.GetDirectoryName(build.SocketIOServer)));
        }).ToList();
        await Task.WhenAll(nodes.Select(n => n.WaitReadyAsync()));
    }

    private ServerProcess Add(ServerProcess process)
    {
        _processes.Add(process);
        return process;
    }

    private ServerProcess AddEdge(ServerProcess process)
    {
        _edges.Add(process);
        return Add(process);
    }
}

/// <summary>
/// How a system is started: how many processes hold the connections (gateways, Node processes; the single-process
/// systems have one whatever this says), and settings every gateway of this project gets.
/// </summary>
public sealed record SystemShape(int Edges = 2, IReadOnlyList<string>? Settings = null)
{
    public IReadOnlyList<string> GatewaySettings => Settings ?? [];
}

/// <summary>The systems the harness knows.</summary>
public sealed record SystemKind(string Name, string Title, Protocol Protocol, bool IsOurs)
{
    public const string ClusterName = "cluster";
    public const string ClusterSocketIOName = "cluster-socketio";
    public const string ClusterSilosName = "cluster-silos";
    public const string EmbeddedName = "embedded";
    public const string EmbeddedSocketIOName = "embedded-socketio";
    public const string SignalRName = "signalr";
    public const string SocketIOName = "socketio";

    public static readonly IReadOnlyList<SystemKind> All =
    [
        new(ClusterName, "Orleans.Realtime cluster (2 gateways, which are silos and hold the grains; SignalR clients)", Protocol.SignalR, true),
        new(ClusterSilosName, "Orleans.Realtime cluster (2 gateways and 2 silos without connections, which hold the grains; SignalR clients)", Protocol.SignalR, true),
        new(ClusterSocketIOName, "Orleans.Realtime cluster (2 gateways, which are silos and hold the grains; socket.io clients)", Protocol.SocketIO, true),
        new(EmbeddedName, "Orleans.Realtime embedded (1 process, SignalR clients)", Protocol.SignalR, true),
        new(EmbeddedSocketIOName, "Orleans.Realtime embedded (1 process, socket.io clients)", Protocol.SocketIO, true),
        new(SignalRName, "plain ASP.NET Core SignalR (1 process, default lifetime manager)", Protocol.SignalR, false),
        new(SocketIOName, "socket.io 4.8 (2 Node processes, Redis adapter)", Protocol.SocketIO, false),
    ];

    public static SystemKind Named(string name) =>
        All.FirstOrDefault(k => k.Name == name) ?? throw new ArgumentException($"Unknown system '{name}'; the systems are {string.Join(", ", All.Select(k => k.Name))}.");
}

/// <summary>Where the programs the harness starts are: the build output of the same configuration as the harness.</summary>
public sealed record BuildOutput(string RepositoryRoot, string Bench, string Gateway, string Silo, string SocketIOServer)
{
    /// <summary>The JavaScript load client's script.</summary>
    public string JsClient => Path.Combine(RepositoryRoot, "Bench", "jsclient", "client.cjs");

    /// <summary>
    /// Another checkout whose gateway and silo builds (same configuration) the harness starts instead of this one's:
    /// how a change is measured against the version before it, in one run (<c>--servers-from</c>).
    /// </summary>
    public static string? ServersRoot { get; set; }

    public static BuildOutput Find()
    {
        var benchDir = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var framework = Path.GetFileName(benchDir);
        var configuration = Path.GetFileName(Path.GetDirectoryName(benchDir)!);
        var root = new DirectoryInfo(benchDir);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Orleans.Realtime.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException("The harness runs from its build output inside the repository (Bench/bin/...).");
        }

        string Output(string project, string assembly) => Path.Combine(ServersRoot ?? root.FullName, project, "bin", configuration, framework, assembly);
        var found = new BuildOutput(
            root.FullName,
            Path.Combine(benchDir, "Realtime.Bench.dll"),
            // A checkout from before the gateway became a library ran Gateway/Realtime.Gateway.dll.
            File.Exists(Output("Gateway.Host", "Realtime.Gateway.Host.dll")) || !File.Exists(Output("Gateway", "Realtime.Gateway.dll"))
                ? Output("Gateway.Host", "Realtime.Gateway.Host.dll")
                : Output("Gateway", "Realtime.Gateway.dll"),
            Output("Silo", "Realtime.Silo.dll"),
            Path.Combine(root.FullName, "Bench", "socketio", "server.cjs"));
        foreach (var file in new[] { found.Gateway, found.Silo, found.SocketIOServer })
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"{file} is missing: build the solution in {configuration} first.", file);
            }
        }

        return found;
    }
}
