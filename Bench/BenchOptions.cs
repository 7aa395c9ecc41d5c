using System.Globalization;
using Realtime.Bench.Scenarios;
using Realtime.Bench.Systems;

namespace Realtime.Bench;

/// <summary>The harness's command line, and the sizes of a full and of a quick run.</summary>
public sealed record BenchOptions
{
    public const string Usage = """
        Usage: dotnet run -c Release --project Bench -- [options]

          --quick                 small sizes and short windows: every system and scenario in under two minutes
          --systems a,b,...       systems to run (default: all): cluster, cluster-silos, cluster-socketio, embedded,
                                  embedded-socketio, signalr, socketio
          --scenarios a,b,...     scenarios to run (default: all): storm, fanout, broadcast, rooms, fanout-small,
                                  fanout-small-js (the same with the npm client in Node), cold (the same at its fixed
                                  load from a new system's first message), soak (the same saturated for
                                  --soak-minutes: no node may be declared dead), churn, recovery, flood,
                                  scale (starts systems of its own, as many connection-holding processes as it needs)
          --scale-connections N   idle connections of the scale scenario (default 100000; quick 2000)
          --seconds N             length of each measurement window (default 10; quick 2)
          --warmup N              unmeasured traffic before a scenario's first window (default 40; quick 1)
          --soak-minutes N        how long the soak saturates the small fan-out (default 10; quick 0.25)
          --cold-seconds N        how long the cold scenario samples its fixed load (default 60; quick 10)
          --servers-from DIR      start the gateways and silos built in another checkout (to measure the version
                                  before a change in the same run)
          --out DIR               where results.md, results.json and results.svg go (default: Bench/results; a
                                  relative DIR is taken from the repository root)
          --help                  this text

        dotnet run -c Release --project Bench -- replot [DIR]   redraws DIR's results.svg from its results.json
                                                                (DIR as for --out)
        """;

    public bool Quick { get; init; }

    public IReadOnlyList<SystemKind> Systems { get; init; } = SystemKind.All;

    public IReadOnlyList<string> Scenarios { get; init; } = ScenarioNames.All;

    public double Seconds { get; init; } = 10;

    /// <summary>
    /// Unmeasured sending before a scenario's first window, until the CPU per delivery settles (the JIT tiers methods
    /// up for the first ~15 s of traffic, and settles after about 40 s on the 2-core machine).
    /// </summary>
    public double WarmupSeconds { get; init; } = 40;

    /// <summary>Unmeasured sending before a scenario's later windows: the processes are warm already.</summary>
    public double NextWarmupSeconds => Quick ? 1 : 3;

    public string? OutputDirectory { get; init; }

    /// <summary>Another checkout whose gateways and silos to start (<see cref="Systems.BuildOutput.ServersRoot"/>).</summary>
    public string? ServersFrom { get; init; }

    /// <summary>Loopback source addresses the load client spreads its connections over.</summary>
    public int SourceAddresses { get; init; } = 8;

    /// <summary>Connections being opened at once.</summary>
    public int ConnectConcurrency { get; init; } = 64;

    /// <summary>Characters in each bench message.</summary>
    public int MessageSize { get; init; } = 100;

    public int StormConnections => Quick ? 400 : 5000;

    /// <summary>Connections opened and closed, unmeasured, before the storm.</summary>
    public int StormWarmupConnections => Quick ? 100 : 1000;

    public int FanoutRooms => Quick ? 4 : 20;

    public int FanoutMembers => Quick ? 25 : 100;

    /// <summary>
    /// Messages each fan-out sender sends per second in the fixed-load window: 20,000 deliveries/s in a full run
    /// (2,000 in a quick one), which every system carries.
    /// </summary>
    public int FanoutRatePerSender => Quick ? 20 : 10;

    /// <summary>Messages each sender may have in flight (sent, not yet back to itself) when saturating.</summary>
    public int Window => 8;

    public int BroadcastConnections => Quick ? 100 : 1000;

    public int BroadcastSenders => 2;

    public int SmallRooms => Quick ? 40 : 400;

    public int SmallFanoutRooms => Quick ? 4 : 10;

    public int SmallFanoutMembers => Quick ? 10 : 20;

    /// <summary>
    /// Messages each small fan-out sender sends per second in the fixed-load window: 40,000 deliveries/s in a full run
    /// (10 × 20 × 200), 2,000 in a quick one.
    /// </summary>
    public int SmallFanoutRatePerSender => Quick ? 50 : 200;

    public int ScaleConnections { get; init; } = 100_000;

    public int ScaleBroadcasts => Quick ? 2 : 5;

    public double ChurnSeconds => Quick ? 12 : 60;

    /// <summary>How long the soak saturates the small fan-out.</summary>
    public double SoakMinutes { get; init; } = 10;

    /// <summary>How long the cold scenario samples its fixed load from a new system's first message.</summary>
    public double ColdSeconds { get; init; } = 60;

    public int ChurnRooms => Quick ? 4 : 20;

    public int ChurnResidents => Quick ? 5 : 10;

    /// <summary>Acknowledged sends per second of each churn room's sender.</summary>
    public int ChurnSendRate => 20;

    /// <summary>New connections per second in the churn scenario, each through join, a stay, leave and disconnect.</summary>
    public int ChurnRate => Quick ? 20 : 50;

    public int RecoveryRooms => Quick ? 4 : 10;

    public int RecoveryMembers => 20;

    /// <summary>Messages per second of each recovery room's sender: the default history (100 messages) holds what 2 s away miss.</summary>
    public int RecoveryRate => 20;

    public TimeSpan RecoveryOutage => TimeSpan.FromSeconds(2);

    public int FloodRooms => Quick ? 4 : 10;

    public int FloodMembers => 10;

    public int FloodRate => 50;

    /// <summary>The per-connection rate limit this project's systems run the flood scenario with.</summary>
    public int FloodRateLimit => 200;

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        var quick = args.Contains("--quick");
        options = options with { Quick = quick, Seconds = quick ? 2 : 10, WarmupSeconds = quick ? 1 : 40, ScaleConnections = quick ? 2_000 : 100_000, SoakMinutes = quick ? 0.25 : 10, ColdSeconds = quick ? 10 : 60 };
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            options = args[i] switch
            {
                "--quick" => options,
                "--systems" => options with { Systems = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(SystemKind.Named).ToList() },
                "--scenarios" => options with { Scenarios = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ScenarioNames.Check).ToList() },
                "--seconds" => options with { Seconds = double.Parse(Value(), CultureInfo.InvariantCulture) },
                "--warmup" => options with { WarmupSeconds = double.Parse(Value(), CultureInfo.InvariantCulture) },
                "--soak-minutes" => options with { SoakMinutes = double.Parse(Value(), CultureInfo.InvariantCulture) },
                "--cold-seconds" => options with { ColdSeconds = double.Parse(Value(), CultureInfo.InvariantCulture) },
                "--servers-from" => options with { ServersFrom = Path.GetFullPath(Value()) },
                "--out" => options with { OutputDirectory = Value() },
                "--scale-connections" => options with { ScaleConnections = int.Parse(Value(), CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"Unknown option {args[i]}."),
            };
        }

        return options;
    }
}
