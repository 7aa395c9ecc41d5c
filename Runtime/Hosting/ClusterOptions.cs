using Microsoft.Extensions.Options;

namespace Realtime.Runtime.Hosting;

/// <summary>Settings of cluster membership and the node-to-node transport (configuration section <c>Cluster</c>).</summary>
public sealed class ClusterOptions
{
    public const string SectionName = "Cluster";

    /// <summary>Nodes with the same id form one cluster; it prefixes the membership table's keys.</summary>
    public string ClusterId { get; set; } = "realtime";

    /// <summary>The Redis server holding the membership table, as <c>host:port</c>. Empty means an in-process table (tests only).</summary>
    public string? Redis { get; set; }

    /// <summary>
    /// For a client only: silo addresses (<c>host:port</c>) to use instead of the membership table, when this process
    /// cannot reach Redis. The silos that answer are its view of the cluster.
    /// </summary>
    public string[] Silos { get; set; } = [];

    /// <summary>The host name or address other nodes reach this silo at.</summary>
    public string AdvertisedHost { get; set; } = "127.0.0.1";

    /// <summary>The address a silo's node-to-node listener binds to.</summary>
    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>The TCP port of a silo's node-to-node listener.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>How often a silo probes the silos it watches.</summary>
    public TimeSpan ProbePeriod { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a probe may take before it counts as missed.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Missed probes in a row after which a silo suspects the one it probes.</summary>
    public int MissedProbesLimit { get; set; } = 3;

    /// <summary>How many other silos each silo probes.</summary>
    public int ProbedSilos { get; set; } = 3;

    /// <summary>Suspicions needed to declare a silo dead (fewer when the cluster has fewer other silos).</summary>
    public int VotesForDeath { get; set; } = 2;

    /// <summary>How long a suspicion counts.</summary>
    public TimeSpan DeathVoteExpiration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often every node writes its I-am-alive time.</summary>
    public TimeSpan IAmAlivePeriod { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often every node reads the membership table.</summary>
    public TimeSpan TableRefreshPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A node whose I-am-alive time has not moved for this long, while the table could be read, is declared dead.</summary>
    public TimeSpan DefunctTimeout { get; set; } = TimeSpan.FromSeconds(12);

    /// <summary>How long the rows of dead nodes stay in the table (for inspection) before silos delete them.</summary>
    public TimeSpan DeadRowRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many times a message may be passed on by nodes that do not host its target.</summary>
    public int MaxForwardCount { get; set; } = 2;

    /// <summary>Frames waiting to be written to one connection; beyond this, sends fail at once.</summary>
    public int SendQueueCapacity { get; set; } = 20_000;

    /// <summary>The largest frame read from another node.</summary>
    public int MaxFrameBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>How long connecting to a node may take, retries with backoff included.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Points per silo on the hash ring; more points spread grains more evenly.</summary>
    public int VirtualNodes { get; set; } = 128;
}

internal sealed class ClusterOptionsValidator : IValidateOptions<ClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ClusterId) || options.ClusterId.Contains(':'))
        {
            failures.Add($"Cluster:ClusterId must be a non-empty name without ':', not '{options.ClusterId}'.");
        }

        if (!string.IsNullOrEmpty(options.Redis) && !RedisEndpoint.TryParse(options.Redis, out _, out _))
        {
            failures.Add($"Cluster:Redis must be host:port, not '{options.Redis}'.");
        }

        foreach (var silo in options.Silos)
        {
            if (!RedisEndpoint.TryParse(silo, out _, out _))
            {
                failures.Add($"Cluster:Silos holds '{silo}': each entry is host:port.");
            }
        }

        if (string.IsNullOrWhiteSpace(options.AdvertisedHost) || options.AdvertisedHost.Contains('@') || options.AdvertisedHost.Contains('/'))
        {
            failures.Add($"Cluster:AdvertisedHost must be a host name or address, not '{options.AdvertisedHost}'.");
        }

        if (!System.Net.IPAddress.TryParse(options.ListenAddress, out _))
        {
            failures.Add($"Cluster:ListenAddress must be an IP address, not '{options.ListenAddress}'.");
        }

        if (options.SiloPort is < 1 or > 65535)
        {
            failures.Add($"Cluster:SiloPort must be a TCP port (1-65535), not {options.SiloPort}.");
        }

        foreach (var (setting, value) in new[]
        {
            ("ProbePeriod", options.ProbePeriod), ("ProbeTimeout", options.ProbeTimeout), ("DeathVoteExpiration", options.DeathVoteExpiration),
            ("IAmAlivePeriod", options.IAmAlivePeriod), ("TableRefreshPeriod", options.TableRefreshPeriod), ("DefunctTimeout", options.DefunctTimeout),
            ("ConnectTimeout", options.ConnectTimeout), ("DeadRowRetention", options.DeadRowRetention),
        })
        {
            if (value <= TimeSpan.Zero)
            {
                failures.Add($"Cluster:{setting} must be greater than zero, not {value}.");
            }
        }

        if (options.DefunctTimeout <= options.IAmAlivePeriod * 2)
        {
            failures.Add($"Cluster:DefunctTimeout ({options.DefunctTimeout}) must be more than twice Cluster:IAmAlivePeriod ({options.IAmAlivePeriod}).");
        }

        foreach (var (setting, value, min) in new[]
        {
            ("MissedProbesLimit", options.MissedProbesLimit, 1), ("ProbedSilos", options.ProbedSilos, 1), ("VotesForDeath", options.VotesForDeath, 1),
            ("MaxForwardCount", options.MaxForwardCount, 0), ("SendQueueCapacity", options.SendQueueCapacity, 16), ("MaxFrameBytes", options.MaxFrameBytes, 64 * 1024),
            ("VirtualNodes", options.VirtualNodes, 1),
        })
        {
            if (value < min)
            {
                failures.Add($"Cluster:{setting} must be at least {min}, not {value}.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Parses <c>host:port</c>.</summary>
internal static class RedisEndpoint
{
    public static bool TryParse(string value, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            return false;
        }

        host = value[..colon];
        return true;
    }
}
