using System.Net;
using Microsoft.Extensions.Options;

namespace Realtime.Contracts.Hosting;

/// <summary>
/// How a node finds and joins its cluster (configuration section <c>Cluster</c>): what silos, gateways in cluster
/// mode and internal services share, applied to Orleans' own options by each host.
/// </summary>
public sealed class RealtimeClusterOptions
{
    /// <summary>The configuration section these options are read from.</summary>
    public const string SectionName = "Cluster";

    /// <summary>Orleans' cluster id: nodes with the same id form one cluster. It prefixes the membership table in Redis.</summary>
    public string ClusterId { get; set; } = "realtime";

    /// <summary>Orleans' service id: stays the same across deployments of the service (grain storage is keyed by it).</summary>
    public string ServiceId { get; set; } = "realtime";

    /// <summary>
    /// The Redis server that holds the membership table (and, on silos, the grain storage), as a StackExchange.Redis
    /// configuration string: <c>host:port</c>, or more options separated by commas.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>
    /// For clients only (gateways, services): silo gateway endpoints (<c>host:port</c>, the silos'
    /// <see cref="GatewayPort"/>) to use instead of the membership table, when this process cannot reach Redis.
    /// </summary>
    public string[] Silos { get; set; } = [];

    /// <summary>For silos: the host name or IP address other nodes reach this silo at; a name is resolved at start.</summary>
    public string AdvertisedHost { get; set; } = "127.0.0.1";

    /// <summary>
    /// For silos: the IP address the silo-to-silo and gateway listeners (and a silo's health port) bind to. Loopback by
    /// default, so that a node started on a laptop is not reachable from the network; the container images set
    /// <c>0.0.0.0</c>.
    /// </summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>For silos: the TCP port of silo-to-silo connections.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>For silos: the TCP port clients (gateways, services) connect to.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// For silos in Kubernetes: use Orleans' Kubernetes hosting, which takes the silo's address, name and ids from the
    /// pod (<c>POD_IP</c>, <c>POD_NAME</c>, <c>POD_NAMESPACE</c>, the <c>orleans/clusterId</c> and
    /// <c>orleans/serviceId</c> labels) and watches the pods, so that a silo whose pod is deleted is declared dead at
    /// once instead of after missed probes. Needs a role that may get, list, watch and patch pods.
    /// </summary>
    public bool Kubernetes { get; set; }

    /// <summary>
    /// Run the Orleans Dashboard's services on this silo (gateway or not): it profiles every grain call, which costs
    /// some CPU. Set it alike on every node of the cluster: the dashboard asks each silo for its figures, and one
    /// without the services answers none (a silo that finds one logs an error naming it). Silos without connections
    /// serve its page at <c>Silo:DashboardPath</c>.
    /// </summary>
    public bool Dashboard { get; set; }

    /// <summary>For silos: which grain directory finds activations (see <see cref="GrainDirectoryKind"/>).</summary>
    public GrainDirectoryKind GrainDirectory { get; set; } = GrainDirectoryKind.Distributed;

    /// <summary>
    /// For silos, the same on all: which silos rooms, namespaces, users, sessions and hubs may be activated on (see
    /// <see cref="GrainPlacement"/>). Wherever that is, a connection's session is not placed on the connection's own
    /// gateway while another silo qualifies, so that it outlives the gateway.
    /// </summary>
    public GrainPlacement GrainPlacement { get; set; } = GrainPlacement.Anywhere;

    /// <summary>
    /// For silos, the same on all: let Orleans' activation repartitioner move rooms, namespaces and users next to the
    /// gateways their messages come from, every 10 to 20 s (<c>Cluster:Repartitioner</c> binds Orleans'
    /// <c>ActivationRepartitionerOptions</c>). A group moves whole, with its members, numbering and history. Not with
    /// <see cref="GrainPlacement.GrainSilos"/>, which keeps groups off the gateways.
    /// </summary>
    public bool Repartitioning { get; set; } = true;

    /// <summary>
    /// How long a call to a grain may take before it fails with a <see cref="TimeoutException"/>: Orleans'
    /// <c>ResponseTimeout</c>, 30 s by default there; a realtime caller wants to hear of a failure sooner.
    /// </summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// For clients only: how long to keep trying to reach the cluster at start before giving up; empty means for
    /// as long as the process runs (what a gateway does).
    /// </summary>
    public TimeSpan? ConnectTimeout { get; set; }

    /// <summary>
    /// For clients only: how often the client reads which silos are alive from the membership table (Orleans'
    /// <c>GatewayListRefreshPeriod</c>, a minute by default there). A silo that dies without closing its connections
    /// (frozen, cut off) is avoided once the cluster has declared it dead and the client has read so.
    /// </summary>
    public TimeSpan SiloListRefreshPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// For silos: how long a room, namespace, user or session grain that comes back (its silo died, or it was idle)
    /// waits for the gateways to list its members before the call that activated it fails with an error, rather than
    /// deliver without some of them. Keep it below <see cref="ResponseTimeout"/>, which that call waits for.
    /// </summary>
    public TimeSpan RebuildTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// For silos: how often each silo looks for state its grains hold for gateways that left the cluster, besides when
    /// the membership changes.
    /// </summary>
    public TimeSpan DepartureCheckPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// For silos: declare a silo dead as soon as its silo port refuses connections from this silo and from one other live
    /// silo (its process is gone: killed, crashed), instead of waiting for Orleans' missed probes. A port that does not
    /// answer at all (a frozen process, a lost machine) is left to the probes.
    /// </summary>
    public bool DeclareRefusingSilosDead { get; set; } = true;

    /// <summary>The endpoints of <see cref="Silos"/>.</summary>
    public IPEndPoint[] SiloEndpoints() => Silos.Select(s => Endpoints.TryParse(s, out var endpoint) ? endpoint : throw new FormatException(s)).ToArray();
}

/// <summary>Which grain directory the silos use; every silo of a cluster must use the same.</summary>
public enum GrainDirectoryKind
{
    /// <summary>
    /// Orleans' strongly consistent in-cluster directory (<c>AddDistributedGrainDirectory</c>): when a silo dies, the
    /// survivors recover its part of the directory from their own activations, and no surviving activation is lost.
    /// </summary>
    Distributed,
    /// <summary>
    /// Orleans' default in-cluster directory: when a silo dies, the activations on the survivors whose directory
    /// entries it held are deactivated, and come back (and rebuild their members) at their next call.
    /// </summary>
    Default,
    /// <summary>The directory in Redis (<c>Cluster:Redis</c>): every activation and deactivation writes to Redis.</summary>
    Redis,
}

/// <summary>Which silos the realtime grains are activated on; Orleans' placement picks among them.</summary>
public enum GrainPlacement
{
    /// <summary>Any silo: Orleans' default placement, which prefers the silo of the first caller unless it is busier.</summary>
    Anywhere,
    /// <summary>Gateways only (silos that hold connections): next to members, never on a silo without connections.</summary>
    Gateways,
    /// <summary>
    /// Silos without connections only, while there are any: grain capacity that scales apart from the gateways. With none
    /// active, any silo.
    /// </summary>
    GrainSilos,
}

/// <summary>Refuses cluster settings that cannot work, at start, with every reason at once.</summary>
public sealed class RealtimeClusterOptionsValidator : IValidateOptions<RealtimeClusterOptions>
{
    /// <summary>Checks the options; a failure lists every setting that is wrong.</summary>
    public ValidateOptionsResult Validate(string? name, RealtimeClusterOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ClusterId))
        {
            failures.Add("Cluster:ClusterId must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(options.ServiceId))
        {
            failures.Add("Cluster:ServiceId must not be empty.");
        }

        foreach (var silo in options.Silos)
        {
            if (!Endpoints.TryParse(silo, out _))
            {
                failures.Add($"Cluster:Silos holds '{silo}': each entry is an IP address and port, as 10.0.0.5:30000.");
            }
        }

        if (string.IsNullOrWhiteSpace(options.AdvertisedHost) || options.AdvertisedHost.Contains('/') || options.AdvertisedHost.Contains(':') && !IPAddress.TryParse(options.AdvertisedHost, out _))
        {
            failures.Add($"Cluster:AdvertisedHost must be a host name or IP address, not '{options.AdvertisedHost}'.");
        }

        if (!IPAddress.TryParse(options.ListenAddress, out _))
        {
            failures.Add($"Cluster:ListenAddress must be an IP address, not '{options.ListenAddress}'.");
        }

        if (options.SiloPort is < 1 or > 65535)
        {
            failures.Add($"Cluster:SiloPort must be a TCP port (1-65535), not {options.SiloPort}.");
        }

        if (options.GatewayPort is < 0 or > 65535 || options.GatewayPort == options.SiloPort)
        {
            failures.Add($"Cluster:GatewayPort must be a TCP port (1-65535, or 0 for none) other than Cluster:SiloPort, not {options.GatewayPort}.");
        }

        if (!Enum.IsDefined(options.GrainDirectory))
        {
            failures.Add($"Cluster:GrainDirectory must be Distributed, Default or Redis, not '{options.GrainDirectory}'.");
        }

        if (!Enum.IsDefined(options.GrainPlacement))
        {
            failures.Add($"Cluster:GrainPlacement must be Anywhere, Gateways or GrainSilos, not '{options.GrainPlacement}'.");
        }

        if (options.ResponseTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Cluster:ResponseTimeout must be greater than zero, not {options.ResponseTimeout}.");
        }

        if (options.RebuildTimeout <= TimeSpan.Zero || options.RebuildTimeout >= options.ResponseTimeout)
        {
            failures.Add($"Cluster:RebuildTimeout must be greater than zero and less than Cluster:ResponseTimeout ({options.ResponseTimeout}), not {options.RebuildTimeout}.");
        }

        if (options.DepartureCheckPeriod <= TimeSpan.Zero)
        {
            failures.Add($"Cluster:DepartureCheckPeriod must be greater than zero, not {options.DepartureCheckPeriod}.");
        }

        if (options.SiloListRefreshPeriod <= TimeSpan.Zero)
        {
            failures.Add($"Cluster:SiloListRefreshPeriod must be greater than zero, not {options.SiloListRefreshPeriod}.");
        }

        if (options.ConnectTimeout is { } connect && connect <= TimeSpan.Zero)
        {
            failures.Add($"Cluster:ConnectTimeout must be greater than zero (or empty: keep trying), not {connect}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal static class Endpoints
{
    /// <summary>Parses <c>address:port</c>, the address an IPv4 or IPv6 literal (<c>[::1]:30000</c>).</summary>
    public static bool TryParse(string value, out IPEndPoint endpoint) => IPEndPoint.TryParse(value, out endpoint!) && endpoint.Port != 0;
}
