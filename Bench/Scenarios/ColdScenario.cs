using Realtime.Bench.Clients;
using Realtime.Bench.Measure;
using Realtime.Bench.Systems;

namespace Realtime.Bench.Scenarios;

/// <summary>
/// A newly started system's cost from its first message: the small fan-out at its fixed load (40,000 deliveries/s),
/// with the npm clients, sampled in 2-second slices for a minute (<c>--cold-seconds</c>) on a system started for this
/// scenario alone. The .NET processes compile their hot methods again and again while the JIT tiers them up, so the
/// first seconds cost more; the curve says how much, and for how long.
/// </summary>
public sealed class ColdScenario(BenchOptions options, SystemKind kind, BuildOutput build, Action<string> log)
{
    public const double SliceSeconds = 2;

    public async Task<ScenarioResult> RunAsync(IReadOnlyList<DeliveryLedger.Group> rooms, int ratePerSender)
    {
        await using var system = await SystemUnderTest.StartAsync(kind, build);
        var named = rooms.Select((r, i) => ($"room-{i}", r.Members, r.Senders)).ToList();
        await using var client = await JsLoadClient.StartAsync(build.JsClient, kind.Protocol, system.Endpoints, named, options.Window, options.MessageSize);
        var seconds = options.ColdSeconds;
        var slices = new List<double>();
        var cpu = 0.0;
        long delivered = 0;
        await client.SlicedPhaseAsync(
            "cold",
            seconds,
            SliceSeconds,
            ratePerSender,
            opened: () =>
            {
                cpu = ProcessStats.CpuSeconds(system.ServerPids);
                return Task.CompletedTask;
            },
            sliced: total =>
            {
                var now = ProcessStats.CpuSeconds(system.ServerPids);
                slices.Add(total > delivered ? (now - cpu) * 1e6 / (total - delivered) : double.NaN);
                (cpu, delivered) = (now, total);
                return Task.CompletedTask;
            });
        var (sent, lost, duplicated, unexpected) = await client.CheckAsync();
        var result = new ColdResult(SliceSeconds, slices);
        log($"  cold: {result.FirstTenSeconds:0.00} µs server CPU per delivery in the first 10 s, {result.Steady:0.00} at steady state (last 20 s): " +
            $"{result.FirstTenSeconds / result.Steady:0.00}×; within 1.5× of steady after {result.SecondsToWithin(1.5):0} s");
        var offered = rooms.Sum(r => r.Senders.Count * ratePerSender * (double)r.Members.Count);
        return new ScenarioResult(kind.Name, ScenarioNames.Cold, $"a system started for it; {rooms.Count} rooms × {rooms[0].Members.Count} members, {offered:N0} deliveries/s from the first message, npm clients", rooms.Sum(r => r.Members.Count), [], sent, lost, duplicated, unexpected, null, null)
        {
            Cold = result,
        };
    }
}

/// <summary>Server CPU per delivery in consecutive slices of a cold start.</summary>
public sealed record ColdResult(double SliceSeconds, IReadOnlyList<double> MicrosPerDelivery)
{
    /// <summary>The first 10 s, as one figure (the mean of its slices).</summary>
    public double FirstTenSeconds => Mean(0, 10);

    /// <summary>The last 20 s, taken as steady state.</summary>
    public double Steady => Mean(Math.Max(0, MicrosPerDelivery.Count * SliceSeconds - 20), double.MaxValue);

    /// <summary>The mean of the slices between two times, in seconds from the first message.</summary>
    public double Mean(double from, double to)
    {
        var selected = MicrosPerDelivery.Where((_, i) => i * SliceSeconds >= from && (i + 1) * SliceSeconds <= to).Where(v => !double.IsNaN(v)).ToList();
        return selected.Count == 0 ? double.NaN : selected.Average();
    }

    /// <summary>From when every later slice cost at most <paramref name="factor"/> times the steady state, in seconds.</summary>
    public double SecondsToWithin(double factor)
    {
        var steady = Steady;
        for (var i = MicrosPerDelivery.Count - 1; i >= 0; i--)
        {
            if (MicrosPerDelivery[i] > steady * factor)
            {
                return (i + 1) * SliceSeconds;
            }
        }

        return 0;
    }
}
