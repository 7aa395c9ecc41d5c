using Microsoft.Extensions.Configuration;

namespace Realtime.AppHost;

/// <summary>
/// How many nodes the app host starts and on which ports (the <c>Realtime</c> section: <c>--Realtime:Gateways=3</c>,
/// <c>--Realtime:FirstPort=21000</c>). Every node listens on loopback; the ports are fixed so that the gateways' pages
/// are where the README says and two app hosts can run side by side with different first ports.
/// </summary>
public sealed class AppHostPorts
{
    /// <summary>Gateways started (HTTP at 5001, 5002, ... with the default first port).</summary>
    public int Gateways { get; set; } = 2;

    /// <summary>Silos without connections started.</summary>
    public int Silos { get; set; } = 2;

    /// <summary>
    /// Where the ports start: the load balancer listens on <c>FirstPort</c>, the gateways' HTTP ports are <c>FirstPort + 1 ...</c>, the silos' HTTP ports
    /// <c>FirstPort + 81 ...</c>, Redis <c>FirstPort + 1380</c>; the Orleans ports follow from it too.
    /// </summary>
    public int FirstPort { get; set; } = 5000;

    public int Redis => FirstPort + 1380;

    /// <summary>The ports from the app host's configuration, where it names them.</summary>
    public static AppHostPorts From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Realtime");
        int Read(string key, int fallback) => int.TryParse(section[key], System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : fallback;
        var defaults = new AppHostPorts();
        return new AppHostPorts
        {
            Gateways = Read(nameof(Gateways), defaults.Gateways),
            Silos = Read(nameof(Silos), defaults.Silos),
            FirstPort = Read(nameof(FirstPort), defaults.FirstPort),
        };
    }

    public int GatewayHttp(int i) => FirstPort + i;

    public int SiloHttp(int i) => FirstPort + 80 + i;

    public int GatewaySiloPort(int i) => FirstPort + 6110 + i;

    public int SiloPort(int i) => FirstPort + 6120 + i;

    public int ClientGatewayPort(int i) => FirstPort + 6130 + i;
}
