using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Realtime.Tests.Infrastructure.Processes;

/// <summary>A server started as a separate OS process, with its output kept for when a test fails.</summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _standardOutput = new();

    private NodeProcess(string name, Process process, int port)
    {
        Name = name;
        _process = process;
        Port = port;
    }

    public string Name { get; }

    /// <summary>The port the process serves HTTP (or Redis) on.</summary>
    public int Port { get; }

    /// <summary>The address the process listens at: loopback, or its own in an <see cref="IsolatedNetwork"/>.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The network namespace the process runs in, in an <see cref="IsolatedNetwork"/>; null on the host's network.</summary>
    public string? Namespace { get; set; }

    /// <summary>A silo's gateway port, which Orleans clients (services) connect to.</summary>
    public int GatewayPort { get; set; }

    /// <summary>A silo's (or gateway's) silo port, which names it in Orleans' silo addresses.</summary>
    public int SiloPort { get; set; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>What the process wrote to its standard output only.</summary>
    public string StandardOutput
    {
        get
        {
            lock (_output)
            {
                return _standardOutput.ToString();
            }
        }
    }

    public static NodeProcess Start(string name, string fileName, IEnumerable<string> arguments, int port, IDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // A .NET host reads appsettings.json from its content root; run it in its own folder, not the tests'.
        if (workingDirectory is not null)
        {
            info.WorkingDirectory = workingDirectory;
        }
        else if (info.ArgumentList.FirstOrDefault(a => a.EndsWith(".dll", StringComparison.Ordinal)) is { } assembly)
        {
            info.WorkingDirectory = Path.GetDirectoryName(assembly)!;
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var node = new NodeProcess(name, process, port);
        process.OutputDataReceived += (_, e) =>
        {
            node.Append(e.Data);
            if (e.Data is not null)
            {
                lock (node._output)
                {
                    node._standardOutput.AppendLine(e.Data);
                }
            }
        };
        process.ErrorDataReceived += (_, e) => node.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    /// <summary>kill -9: the process gets no chance to say goodbye.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Sends a signal (SIGTERM for a graceful stop, SIGSTOP and SIGCONT to freeze and thaw).</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async Task WaitForExitAsync(TimeSpan timeout) => await _process.WaitForExitAsync().Within($"{Name} to exit", timeout);

    /// <summary>Waits for the process to end, and for its output to be read to the end, and returns its exit code.</summary>
    public async Task<int> WaitForExitCodeAsync(TimeSpan timeout)
    {
        await WaitForExitAsync(timeout);
        _process.WaitForExit(); // also drains the redirected output
        return _process.ExitCode;
    }

    /// <summary>
    /// Starts a redis-server of the tests' own, on loopback (and at <paramref name="alsoAt"/>, an address of a test's
    /// <see cref="IsolatedNetwork"/>). With <paramref name="dataDirectory"/> it keeps its data
    /// there as a deployed one should (an append-only file, written through at every write), so that it comes back
    /// with its data after a crash; without, it persists nothing.
    /// </summary>
    public static NodeProcess StartRedis(int port, string? dataDirectory = null, string? alsoAt = null) =>
        Start("redis", "redis-server", [
            "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save", "",
            .. alsoAt is null ? ["--bind", "127.0.0.1"] : new[] { "--bind", $"127.0.0.1 {alsoAt}", "--protected-mode", "no" }, // nodes of a test network reach it there
            .. dataDirectory is null ? ["--appendonly", "no"] : new[] { "--appendonly", "yes", "--appendfsync", "always", "--dir", dataDirectory },
        ], port);

    /// <summary>True when something accepts TCP connections on the loopback port.</summary>
    public static bool CanConnect(int port) => Realtime.Bench.Systems.LoopbackPorts.Accepts(port);

    /// <summary>A loopback port for a server of the tests (see <see cref="Realtime.Bench.Systems.LoopbackPorts"/>).</summary>
    public static int FreePort() => Realtime.Bench.Systems.LoopbackPorts.Next();

    public async ValueTask DisposeAsync()
    {
        Kill();
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
