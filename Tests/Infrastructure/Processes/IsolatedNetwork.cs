using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

namespace Realtime.Tests.Infrastructure.Processes;

/// <summary>
/// A network of the test's own, so that a link between two nodes can be cut while every other link stays up: a Linux
/// bridge with an address for the test process (and Redis) on it, and a network namespace per node, each joined to the
/// bridge by a veth pair and given an address of its own. A cut is a firewall rule (nftables) in one node's namespace
/// that drops everything to and from the other's address: no refusal, no reset, as when a switch between them fails.
/// Everything is made with <c>ip</c> and <c>nft</c>, which need root, and removed when disposed.
/// </summary>
public sealed class IsolatedNetwork : IDisposable
{
    private readonly string _tag = Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant();
    private readonly int _subnet = RandomNumberGenerator.GetInt32(1, 255);
    private readonly List<string> _namespaces = [];

    private IsolatedNetwork()
    {
    }

    /// <summary>The test process's address on the bridge; Redis listens there too.</summary>
    public string HostAddress => $"10.231.{_subnet}.1";

    private string Bridge => $"rtb{_tag}";

    public static IsolatedNetwork Create()
    {
        var network = new IsolatedNetwork();
        try
        {
            Run("ip", "link", "add", network.Bridge, "type", "bridge");
            Run("ip", "addr", "add", $"{network.HostAddress}/24", "dev", network.Bridge);
            Run("ip", "link", "set", network.Bridge, "up");
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>A new node's place: its namespace (to run it in) and its address.</summary>
    public (string Namespace, string Address) AddNode()
    {
        int index;
        lock (_namespaces)
        {
            index = _namespaces.Count;
            _namespaces.Add($"rt-{_tag}-{index}");
        }

        var ns = $"rt-{_tag}-{index}";
        var address = $"10.231.{_subnet}.{10 + index}";
        var outside = $"rtv{_tag}{index}";
        Run("ip", "netns", "add", ns);
        Run("ip", "link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", ns);
        Run("ip", "link", "set", outside, "master", Bridge, "up");
        Run("ip", "-n", ns, "addr", "add", $"{address}/24", "dev", "eth0");
        Run("ip", "-n", ns, "link", "set", "eth0", "up");
        Run("ip", "-n", ns, "link", "set", "lo", "up");
        return (ns, address);
    }

    /// <summary>The command that runs <paramref name="fileName"/> in namespace <paramref name="ns"/>.</summary>
    public static (string FileName, string[] Arguments) In(string ns, string fileName, IEnumerable<string> arguments) =>
        ("ip", ["netns", "exec", ns, fileName, .. arguments]);

    /// <summary>Drops every packet between the nodes in <paramref name="ns"/> and at <paramref name="peer"/>, both ways.</summary>
    public static void Cut(string ns, string peer)
    {
        var table = $$"""
            table inet cut {
                chain incoming { type filter hook input priority 0; ip saddr {{peer}} drop; }
                chain outgoing { type filter hook output priority 0; ip daddr {{peer}} drop; }
            }
            """;
        Run("ip", ["netns", "exec", ns, "nft", "-f", "-"], table);
    }

    /// <summary>Carries packets again between the node in <paramref name="ns"/> and the one it was cut from.</summary>
    public static void Heal(string ns) => Run("ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "cut");

    public void Dispose()
    {
        lock (_namespaces)
        {
            foreach (var ns in _namespaces)
            {
                TryRun("ip", "netns", "delete", ns); // its end of the veth pair goes with it, and so the other end
            }
        }

        TryRun("ip", "link", "delete", Bridge);
    }

    private static void Run(string fileName, params string[] arguments) => Run(fileName, arguments, null);

    private static void Run(string fileName, string[] arguments, string? input)
    {
        var (exitCode, errors) = Execute(fileName, arguments, input);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} failed ({exitCode.ToString(CultureInfo.InvariantCulture)}): {errors}");
        }
    }

    private static void TryRun(string fileName, params string[] arguments) => Execute(fileName, arguments, null);

    private static (int ExitCode, string Errors) Execute(string fileName, string[] arguments, string? input)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardError = true, RedirectStandardInput = input is not null, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }

        var errors = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            process.Kill();
            return (-1, $"timed out. {errors}");
        }

        return (process.ExitCode, errors.Trim());
    }
}
