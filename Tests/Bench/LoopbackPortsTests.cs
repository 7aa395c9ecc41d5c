using System.Net;
using System.Net.Sockets;
using Realtime.Bench.Systems;

namespace Realtime.Tests.Bench;

/// <summary>
/// The ports the tests and the benchmarks start servers on are outside the kernel's ephemeral range, where no outgoing
/// connection can take one between the check and the server's bind, and are never handed out twice.
/// </summary>
public sealed class LoopbackPortsTests
{
    [Fact]
    public void PortsAreFree_BelowTheEphemeralRange_AndNeverRepeated()
    {
        var ephemeralLow = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0]);
        var ports = Enumerable.Range(0, 200).Select(_ => LoopbackPorts.Next()).ToList();

        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.All(ports, port => Assert.InRange(port, 10_000, ephemeralLow - 1));
        foreach (var port in ports.Take(5))
        {
            using var server = new TcpListener(IPAddress.Loopback, port);
            server.Start(); // free when handed out
        }
    }
}
