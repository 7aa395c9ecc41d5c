using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Realtime.Bench.Clients;

/// <summary>
/// The JavaScript load client (<c>Bench/jsclient/client.cjs</c>): one Node process holding a scenario's connections
/// through the npm SignalR client (or socket.io-client for socket.io systems), driven over its standard input and
/// output. It keeps its own ledger and latencies; the harness only tells it when to send and reads what it saw.
/// </summary>
public sealed class JsLoadClient : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _input;
    private readonly StringWriter _errors = new();

    private JsLoadClient(Process process)
    {
        _process = process;
        _input = process.StandardInput;
        _input.AutoFlush = true;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_errors)
                {
                    _errors.WriteLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    /// <summary>Starts the client and opens the scenario's connections, each joined to its room.</summary>
    public static async Task<JsLoadClient> StartAsync(string script, Protocol protocol, IReadOnlyList<Uri> endpoints, IEnumerable<(string Name, IReadOnlyList<int> Members, IReadOnlyList<int> Senders)> rooms, int window, int messageSize)
    {
        var info = new ProcessStartInfo("node") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        info.Environment["NODE_ENV"] = "production";
        var client = new JsLoadClient(Process.Start(info) ?? throw new InvalidOperationException("node did not start."));
        await client.SendAsync(new
        {
            protocol = protocol == Protocol.SocketIO ? "socketio" : "signalr",
            urls = endpoints.Select(e => e.ToString().TrimEnd('/')),
            rooms = rooms.Select(r => new { name = r.Name, members = r.Members, senders = r.Senders }),
            window,
            messageSize,
        });
        await client.ReadAsync("ready", TimeSpan.FromMinutes(2));
        return client;
    }

    /// <summary>
    /// Runs one phase; <paramref name="opened"/> and <paramref name="closed"/> are called when the measured window
    /// opens and closes (to sample the servers' CPU).
    /// </summary>
    public async Task<(long Delivered, double Seconds, long P50, long P99, long P999, long Max)> PhaseAsync(
        string name, double seconds, double warmup, int? rate, Func<Task> opened, Func<Task> closed)
    {
        await SendAsync(new { phase = name, seconds, warmup, rate });
        await ReadAsync("window", TimeSpan.FromSeconds(warmup + 60));
        await opened();
        await ReadAsync("window", TimeSpan.FromSeconds(seconds + 60));
        await closed();
        var result = (await ReadAsync("result", TimeSpan.FromMinutes(2)))!;
        var latency = result["latency"]!;
        return (result["delivered"]!.GetValue<long>(), result["seconds"]!.GetValue<double>(),
            Micros(latency["p50"]), Micros(latency["p99"]), Micros(latency["p999"]), Micros(latency["max"]));
    }

    /// <summary>
    /// Runs one phase with no warm-up, reporting every <paramref name="slice"/> seconds how many deliveries the window
    /// has had so far: <paramref name="opened"/> is called when it opens, <paramref name="sliced"/> at each report.
    /// </summary>
    public async Task SlicedPhaseAsync(string name, double seconds, double slice, int? rate, Func<Task> opened, Func<long, Task> sliced)
    {
        await SendAsync(new { phase = name, seconds, warmup = 0, rate, slice });
        await ReadAsync("window", TimeSpan.FromSeconds(60));
        await opened();
        for (var elapsed = 0.0; elapsed < seconds; elapsed += slice)
        {
            await sliced((await ReadAsync("slice", TimeSpan.FromSeconds(slice + 60)))!.GetValue<long>());
        }

        await ReadAsync("window", TimeSpan.FromSeconds(60));
        await ReadAsync("result", TimeSpan.FromMinutes(2));
    }

    /// <summary>What every receiver saw, against what was sent: (sent, lost, duplicated, misdelivered).</summary>
    public async Task<(long Sent, long Lost, long Duplicated, long Unexpected)> CheckAsync()
    {
        await SendAsync(new { check = true });
        var check = (await ReadAsync("check", TimeSpan.FromMinutes(1)))!;
        return (check["sent"]!.GetValue<long>(), check["lost"]!.GetValue<long>(), check["duplicated"]!.GetValue<long>(), check["unexpected"]!.GetValue<long>());
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await SendAsync(new { exit = true });
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception ex) when (ex is IOException or TimeoutException or InvalidOperationException)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private static long Micros(JsonNode? value) => (long)value!.GetValue<double>();

    private Task SendAsync(object command) => _input.WriteLineAsync(JsonSerializer.Serialize(command));

    /// <summary>The next line that carries <paramref name="property"/>; its value.</summary>
    private async Task<JsonNode?> ReadAsync(string property, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            string? line;
            try
            {
                line = await _process.StandardOutput.ReadLineAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"The JavaScript client did not answer '{property}' in time. It wrote:{Environment.NewLine}{Errors}");
            }

            if (line is null)
            {
                throw new InvalidOperationException($"The JavaScript client ended. It wrote:{Environment.NewLine}{Errors}");
            }

            if (JsonNode.Parse(line) is JsonObject message && message.TryGetPropertyValue(property, out var value))
            {
                return value;
            }
        }
    }

    private string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }
}
