using System.Diagnostics;
using Realtime.Bench.Measure;
using Realtime.Bench.Systems;

namespace Realtime.Bench.Scenarios;

/// <summary>What the scenarios share: sending at a fixed rate, waiting for the servers to go quiet and for deliveries to stop.</summary>
internal static class Pacing
{
    /// <summary>
    /// Calls <paramref name="send"/> <paramref name="perSecond"/> times a second until <paramref name="stop"/>, each
    /// time with when it was due (so that latency counts from then, not from when it ran), starting at a random point
    /// of the first interval. With <paramref name="skipWhenBehind"/>, a loop more than a second behind (its sends waited
    /// on the servers) goes on from now rather than rush to catch up.
    /// </summary>
    public static async Task EveryAsync(int perSecond, CancellationToken stop, Func<long, Task> send, bool skipWhenBehind = false)
    {
        var interval = Stopwatch.Frequency / perSecond;
        var due = Stopwatch.GetTimestamp() + Random.Shared.NextInt64(interval);
        while (!stop.IsCancellationRequested)
        {
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            await send(due);
            due += interval;
            if (skipWhenBehind && Stopwatch.GetTimestamp() - due > Stopwatch.Frequency)
            {
                due = Stopwatch.GetTimestamp();
            }
        }
    }

    /// <summary>Waits until the servers' CPU use is quiet (at most <paramref name="seconds"/>).</summary>
    public static async Task SettleAsync(SystemUnderTest system, double seconds = 5)
    {
        for (var i = 0; i < seconds * 2; i++)
        {
            var before = ProcessStats.CpuSeconds(system.ServerPids);
            await Task.Delay(500);
            if (ProcessStats.CpuSeconds(system.ServerPids) - before < 0.05)
            {
                return;
            }
        }
    }

    /// <summary>Waits until the ledger has <paramref name="expected"/> deliveries, or nothing has arrived for 3 s.</summary>
    public static async Task DrainAsync(DeliveryLedger ledger, long expected = long.MaxValue)
    {
        var last = ledger.Delivered;
        var quiet = Stopwatch.StartNew();
        while (ledger.Delivered < expected && quiet.Elapsed < TimeSpan.FromSeconds(3))
        {
            await Task.Delay(50);
            if (ledger.Delivered != last)
            {
                last = ledger.Delivered;
                quiet.Restart();
            }
        }
    }

    /// <summary>The deadline of one operation of a load client.</summary>
    public static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;
}
