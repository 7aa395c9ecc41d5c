using Realtime.Bench.Measure;

namespace Realtime.Bench.Scenarios;

/// <summary>One measured window of a scenario: deliveries, the servers' and the load client's CPU, latency.</summary>
public sealed record PhaseResult(
    string Name,
    double Seconds,
    long Delivered,
    double OfferedPerSecond,
    double ServerCpuSeconds,
    double ClientCpuSeconds,
    long P50Micros,
    long P99Micros,
    long P999Micros,
    long MaxMicros,
    IReadOnlyDictionary<string, double> CpuSecondsByProcess,
    WorkCounters? Work = null,
    double Fanout = double.NaN)
{
    /// <summary>Orleans messages (to other nodes, and within a process) per message a client sent, when counted.</summary>
    public (double Remote, double Local)? OrleansMessagesPerSend =>
        Work is { } work && Delivered > 0 && !double.IsNaN(Fanout) ? (work.OrleansRemote * Fanout / Delivered, work.OrleansLocal * Fanout / Delivered) : null;

    /// <summary>Context switches of the server processes per message a client sent, when counted.</summary>
    public double? ContextSwitchesPerSend => Work is { } work && Delivered > 0 && !double.IsNaN(Fanout) ? work.ContextSwitches * Fanout / Delivered : null;

    /// <summary>Bytes the .NET server processes that serve metrics allocated per delivered message, when counted.</summary>
    public double? AllocatedBytesPerDelivery => Work is { AllocatedBytes: > 0 } work && Delivered > 0 ? (double)work.AllocatedBytes / Delivered : null;

    public double DeliveredPerSecond => Delivered / Seconds;

    /// <summary>CPU time of all the server processes per delivered message, in microseconds.</summary>
    public double ServerMicrosPerDelivery => Delivered == 0 ? double.NaN : ServerCpuSeconds * 1e6 / Delivered;

    /// <summary>Share of the machine's CPU (all cores) the servers used.</summary>
    public double ServerCpuShare => ServerCpuSeconds / (Seconds * Environment.ProcessorCount);

    /// <summary>Share of the machine's CPU (all cores) the load client used.</summary>
    public double ClientCpuShare => ClientCpuSeconds / (Seconds * Environment.ProcessorCount);
}

/// <summary>A connection storm: how fast connections open, and what each idle one costs the servers in memory.</summary>
public sealed record StormResult(
    int Connections,
    int Failed,
    double Seconds,
    long ServerRssBefore,
    long ServerRssAfter,
    long EdgeRssBefore,
    long EdgeRssAfter)
{
    public double ConnectionsPerSecond => (Connections - Failed) / Seconds;

    /// <summary>Resident memory of all the server processes per idle connection, in bytes.</summary>
    public double ServerBytesPerConnection => (ServerRssAfter - ServerRssBefore) / (double)Math.Max(1, Connections - Failed);

    /// <summary>The same, of the processes holding the connections only (the gateways, or the Node processes).</summary>
    public double EdgeBytesPerConnection => (EdgeRssAfter - EdgeRssBefore) / (double)Math.Max(1, Connections - Failed);
}

/// <summary>
/// What one scenario measured on one system; <see cref="Error"/> says why it could not finish, if it did not, and
/// <see cref="Incident"/> what went wrong on the servers' side while it ran (a server process that died).
/// </summary>
public sealed record ScenarioResult(
    string System,
    string Scenario,
    string Setup,
    int Connections,
    IReadOnlyList<PhaseResult> Phases,
    long Sent,
    long Lost,
    long Duplicated,
    long Unexpected,
    StormResult? Storm,
    string? Error,
    string? Incident = null)
{
    /// <summary>Why the system has nothing to measure here (it does not offer what the scenario uses); not a failure.</summary>
    public string? NotOffered { get; init; }

    public ChurnResult? Churn { get; init; }

    public RecoveryResult? Recovery { get; init; }

    public FloodResult? Flood { get; init; }

    public ScaleResult? Scale { get; init; }

    public ColdResult? Cold { get; init; }

    public PhaseResult? Phase(string name) => Phases.FirstOrDefault(p => p.Name == name);

    public bool Clean => Error is null && Incident is null && Lost == 0 && Duplicated == 0 && Unexpected == 0;
}
