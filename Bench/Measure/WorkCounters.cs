using System.Globalization;

namespace Realtime.Bench.Measure;

/// <summary>
/// What a system's processes did during a window besides burning CPU: the Orleans messages they sent (to other nodes,
/// and within a process), how often their threads were switched in (context switches, voluntary or not: each
/// voluntary one is a thread that went to sleep and was woken again), and the bytes the .NET ones allocated on their
/// heaps. Read before and after a window; the difference divided by the window's room messages (or deliveries) is the
/// cost of one.
/// </summary>
public sealed record WorkCounters(long OrleansRemote, long OrleansLocal, long ContextSwitches, long AllocatedBytes = 0)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public static WorkCounters operator -(WorkCounters after, WorkCounters before) =>
        new(after.OrleansRemote - before.OrleansRemote, after.OrleansLocal - before.OrleansLocal, after.ContextSwitches - before.ContextSwitches,
            after.AllocatedBytes - before.AllocatedBytes);

    /// <summary>
    /// Reads the counters of every process: context switches from <c>/proc</c>, and the Orleans messages from the
    /// Prometheus text of those that serve one (gateways and silos, at <paramref name="metricsPorts"/>), with the bytes
    /// their runtime allocated (the <c>System.Runtime</c> meter's <c>dotnet.gc.heap.total_allocated</c>).
    /// </summary>
    public static async Task<WorkCounters> ReadAsync(IEnumerable<int> pids, IEnumerable<int> metricsPorts)
    {
        long remote = 0, local = 0, allocated = 0;
        foreach (var port in metricsPorts)
        {
            string text;
            try
            {
                text = await Http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                continue;
            }

            foreach (var line in text.Split('\n'))
            {
                // Messages sent to another node are counted by the size histogram; those within a process by a counter.
                if (line.StartsWith("orleans_messaging_sent_messages_size_bytes_count", StringComparison.Ordinal))
                {
                    remote += Value(line);
                }
                else if (line.StartsWith("orleans_messaging_sent_local_total", StringComparison.Ordinal))
                {
                    local += Value(line);
                }
                else if (line.StartsWith("dotnet_gc_heap_total_allocated_bytes_total", StringComparison.Ordinal))
                {
                    allocated += Value(line);
                }
            }
        }

        return new WorkCounters(remote, local, pids.Sum(ContextSwitchesOf), allocated);
    }

    /// <summary>The context switches of every thread of a process so far; 0 once it is gone.</summary>
    public static long ContextSwitchesOf(int pid)
    {
        long switches = 0;
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                    {
                        if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                        {
                            switches += long.Parse(line[(line.IndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture);
                        }
                    }
                }
                catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or IOException)
                {
                    // A thread that ended meanwhile.
                }
            }
        }
        catch (Exception ex) when (ex is DirectoryNotFoundException or IOException)
        {
        }

        return switches;
    }

    /// <summary>A sample line's value: after the labels (or the name), before any timestamp.</summary>
    private static long Value(string line)
    {
        var labels = line.IndexOf('}', StringComparison.Ordinal);
        var rest = labels >= 0 ? line[(labels + 1)..] : line[line.IndexOf(' ', StringComparison.Ordinal)..];
        return (long)double.Parse(rest.Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
