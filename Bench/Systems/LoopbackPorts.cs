using System.Net;
using System.Net.Sockets;

namespace Realtime.Bench.Systems;

/// <summary>
/// Loopback ports for the servers that the benchmarks (and the tests, which use this class) start. A port the system hands out for
/// listening (port 0) comes from its ephemeral range, where every outgoing connection also takes one: between the check
/// and a server's bind, a client connection of another process could take it, and the server fails to start ("address
/// already in use"; a benchmark run lost a system so). These come from below that range, where no outgoing connection
/// is given a port; each is free when handed out and handed out once per process, from a place in the range that
/// differs between processes.
/// </summary>
public static class LoopbackPorts
{
    private const int Floor = 10_000;
    private static readonly Lock Gate = new();
    private static readonly int Ceiling = EphemeralLow();
    private static int _next = Floor + (int)((long)Environment.ProcessId * 7_919 % (Ceiling - Floor));
    private static int _handedOut;

    /// <summary>A loopback port that is free now and that this process has not handed out before.</summary>
    public static int Next()
    {
        lock (Gate)
        {
            while (_handedOut < Ceiling - Floor)
            {
                var port = _next;
                _next = _next + 1 < Ceiling ? _next + 1 : Floor;
                _handedOut++;
                if (IsFree(port))
                {
                    return port;
                }
            }
        }

        throw new InvalidOperationException($"No loopback port is left between {Floor} and {Ceiling}.");
    }

    /// <summary>True when something accepts TCP connections on the loopback port.</summary>
    public static bool Accepts(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    // The first port of the kernel's ephemeral range (Linux: net.ipv4.ip_local_port_range); 32768 where it cannot be read.
    private static int EphemeralLow()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return int.TryParse(range[0], out var low) && low > Floor + 1_000 ? low : 32_768;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return 32_768;
        }
    }
}
