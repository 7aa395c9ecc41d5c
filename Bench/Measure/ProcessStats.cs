using System.Globalization;

namespace Realtime.Bench.Measure;

/// <summary>CPU time and resident memory of processes, read from <c>/proc</c> (Linux).</summary>
public static class ProcessStats
{
    /// <summary>Clock ticks per second of <c>/proc/[pid]/stat</c>'s times (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, double> LastCpu = new();

    /// <summary>User plus system CPU time of the processes so far, all their threads, in seconds.</summary>
    public static double CpuSeconds(IEnumerable<int> pids) => pids.Sum(CpuSeconds);

    /// <summary>The CPU time of a process, or the last read of it once the process is gone.</summary>
    public static double CpuSeconds(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return LastCpu.GetValueOrDefault(pid);
        }

        // The command name, in parentheses, may hold spaces; the fields after it are space-separated.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var user = long.Parse(fields[11], CultureInfo.InvariantCulture); // field 14, utime
        var system = long.Parse(fields[12], CultureInfo.InvariantCulture); // field 15, stime
        return LastCpu[pid] = (user + system) / TicksPerSecond;
    }

    /// <summary>Resident memory of the processes, in bytes.</summary>
    public static long ResidentBytes(IEnumerable<int> pids) => pids.Sum(ResidentBytes);

    public static long ResidentBytes(int pid)
    {
        if (!File.Exists($"/proc/{pid}/status"))
        {
            return 0;
        }

        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    /// <summary>The machine, for the results: CPU model and count, memory, kernel.</summary>
    public static string Machine()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var memory = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))["MemTotal:".Length..].Trim();
        var kilobytes = long.Parse(memory.Split(' ')[0], CultureInfo.InvariantCulture);
        var kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        return $"{Environment.ProcessorCount} × {model}, {kilobytes / 1024.0 / 1024.0:0.#} GiB, Linux {kernel}, .NET {Environment.Version}";
    }
}
