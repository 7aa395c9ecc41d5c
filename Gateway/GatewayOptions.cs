using Microsoft.Extensions.Options;
using Realtime.Gateway.SignalR;

namespace Realtime.Gateway;

/// <summary>Settings of a gateway (configuration section <c>Gateway</c>).</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>
    /// <see cref="GatewayMode.Embedded"/>: this process is a cluster of its own. <see cref="GatewayMode.Cluster"/>: it is
    /// a silo of the cluster the <c>Cluster</c> section names, beside the other gateways and any silos without
    /// connections.
    /// </summary>
    public GatewayMode Mode { get; set; } = GatewayMode.Embedded;

    /// <summary>
    /// The gateway's name in logs, presence (<c>gatewayId</c>) and socket.io session ids; the gateway's id adds its
    /// silo's address and generation, so a restarted gateway is a new one. Defaults to the machine (pod) name.
    /// </summary>
    public string Name { get; set; } = Environment.MachineName;

    /// <summary>Path of the ready-made <see cref="RealtimeHub"/>; a namespace is one more segment (<c>/realtime/chat</c>).</summary>
    public string HubPath { get; set; } = "/realtime";

    /// <summary>The largest message, serialized, that a client or a service may send; larger ones get an error.</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// The largest frame the gateway reads from a client at all (SignalR's MaximumReceiveMessageSize). A frame above
    /// <see cref="MaxMessageBytes"/> and up to this size is answered with an error; above it the connection is closed,
    /// because it cannot be read without buffering it.
    /// </summary>
    public int MaxFrameBytes { get; set; } = 1024 * 1024;

    /// <summary>How long a client may take to answer a call from the server made on another gateway (SignalR client results).</summary>
    public TimeSpan ClientResultTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The URL other gateways reach this one at (<c>http://10.1.2.3:8080</c>), for socket.io long-polling requests
    /// that a load balancer sent to a gateway that does not own the session. Default: the first address Kestrel
    /// listens on, a wildcard host (<c>+</c>, <c>*</c>, <c>0.0.0.0</c>, <c>[::]</c>) replaced by this machine's first
    /// non-loopback IPv4 address. In Kubernetes, set it from the pod IP.
    /// </summary>
    public string? InternalUrl { get; set; }

    /// <summary>
    /// How many sends (SignalR <c>send</c> of <c>SendToRoom</c> or <c>Broadcast</c>, which the client does not wait for)
    /// a connection may have queued before the gateway waits for room in the queue. The queue goes to the grains one
    /// call at a time, what queued up for one room going together, so the sends keep their order. 0 handles each send
    /// only after the grain has answered the one before.
    /// </summary>
    public int PipelinedSends { get; set; } = 16;

    /// <summary>
    /// How many of its sends to rooms, namespaces and users the gateway keeps, all groups together, after their grain
    /// took them: a grain whose silo dies right after answering a send may not have delivered it to every other
    /// gateway, and its next activation sends it again to those that miss it. 0 keeps none (and a send then goes as in
    /// version 2). Each kept send holds its payload and an entry of about 100 bytes.
    /// </summary>
    public int KeepSent { get; set; } = 65_536;

    /// <summary>
    /// How long a kept send (<see cref="KeepSent"/>) is kept: long enough for the cluster to declare a silo dead and
    /// its groups to come back (probes take about 5 s for a frozen silo). 0 keeps none.
    /// </summary>
    public TimeSpan KeepSentFor { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Origins (<c>https://app.example.com</c>, <c>https://*.example.com</c>) whose pages may connect to the hubs and
    /// to socket.io, over every transport. A browser request with another <c>Origin</c> is refused with 403; the
    /// gateway's own origin is always allowed, and clients that send no <c>Origin</c> (servers, native apps) are not
    /// checked. Empty (the default): every origin may connect. Set it with cookie authentication, or for any gateway
    /// on a public domain.
    /// </summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>Per-connection flood control: messages and bytes per second a client may send.</summary>
    public RateLimitOptions RateLimit { get; set; } = new();

    /// <summary>
    /// Bytes waiting to be written to one SignalR connection (its client stopped reading, or reads too slowly) before
    /// the gateway disconnects it, so that it holds neither the gateway's memory nor its room back. At least
    /// <see cref="MaxMessageBytes"/>; socket.io's bound is <c>SocketIO:MaxBufferedBytes</c>.
    /// </summary>
    public long MaxBufferedBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>New connections beyond this many open ones are refused with 503 at the handshake; 0: no limit.</summary>
    public int MaxConnections { get; set; }

    /// <summary>Serve the demo page at <c>/</c>.</summary>
    public bool DemoPage { get; set; } = true;
}

/// <summary>Per-connection flood control (<c>Gateway:RateLimit</c>); 0 turns a bucket off.</summary>
public sealed class RateLimitOptions
{
    internal static readonly TimeSpan AbuseWindowLength = TimeSpan.FromSeconds(10);

    /// <summary>Messages a client may send per second, on average (hub invocations, socket.io events); 0: no limit.</summary>
    public int MessagesPerSecond { get; set; }

    /// <summary>How many messages a client may send at once after a quiet spell (the bucket's size); at least <see cref="MessagesPerSecond"/>.</summary>
    public int MessageBurst { get; set; }

    /// <summary>Bytes of message content a client may send per second, on average; 0: no limit.</summary>
    public int BytesPerSecond { get; set; }

    /// <summary>Bytes a client may send at once; at least <see cref="BytesPerSecond"/>.</summary>
    public int ByteBurst { get; set; }

    /// <summary>Refused messages within 10 seconds after which the connection is disconnected; 0: never.</summary>
    public int DisconnectAfter { get; set; } = 100;
}

/// <summary>Which cluster a gateway's silo belongs to.</summary>
public enum GatewayMode
{
    /// <summary>A cluster of its own, on loopback, with localhost clustering: one node, no configuration.</summary>
    Embedded,
    /// <summary>The cluster whose membership table is in <c>Cluster:Redis</c>: a gateway silo among the others.</summary>
    Cluster,
}

internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var failures = new List<string>();
        if (!Enum.IsDefined(options.Mode))
        {
            failures.Add($"Gateway:Mode must be Embedded or Cluster, not '{options.Mode}'.");
        }

        if (string.IsNullOrWhiteSpace(options.Name) || options.Name.Contains('@'))
        {
            failures.Add($"Gateway:Name must be a non-empty name without '@', not '{options.Name}'.");
        }

        if (!options.HubPath.StartsWith('/') || options.HubPath.EndsWith('/'))
        {
            failures.Add($"Gateway:HubPath must start with '/' and not end with one, not '{options.HubPath}'.");
        }

        if (options.MaxMessageBytes < 1024)
        {
            failures.Add($"Gateway:MaxMessageBytes must be at least 1024, not {options.MaxMessageBytes}.");
        }

        if (options.MaxFrameBytes < options.MaxMessageBytes)
        {
            failures.Add($"Gateway:MaxFrameBytes ({options.MaxFrameBytes}) must be at least Gateway:MaxMessageBytes ({options.MaxMessageBytes}).");
        }

        if (options.ClientResultTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Gateway:ClientResultTimeout must be greater than zero, not {options.ClientResultTimeout}.");
        }

        if (options.PipelinedSends is < 0 or > 1024)
        {
            failures.Add($"Gateway:PipelinedSends must be from 0 to 1024, not {options.PipelinedSends}.");
        }

        if (options.KeepSent < 0 || options.KeepSentFor < TimeSpan.Zero)
        {
            failures.Add($"Gateway:KeepSent and Gateway:KeepSentFor cannot be negative, not {options.KeepSent} and {options.KeepSentFor}.");
        }

        if (options.InternalUrl is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            failures.Add($"Gateway:InternalUrl must be an absolute http or https URL, not '{url}'.");
        }

        if (options.RateLimit is { MessagesPerSecond: < 0 } or { MessageBurst: < 0 } or { BytesPerSecond: < 0 } or { ByteBurst: < 0 } or { DisconnectAfter: < 0 })
        {
            failures.Add("Gateway:RateLimit:MessagesPerSecond, MessageBurst, BytesPerSecond, ByteBurst and DisconnectAfter cannot be negative.");
        }

        if (options.MaxBufferedBytes < options.MaxMessageBytes)
        {
            failures.Add($"Gateway:MaxBufferedBytes ({options.MaxBufferedBytes}) must be at least Gateway:MaxMessageBytes ({options.MaxMessageBytes}).");
        }

        if (options.MaxConnections < 0)
        {
            failures.Add($"Gateway:MaxConnections cannot be negative, not {options.MaxConnections}.");
        }

        foreach (var origin in options.AllowedOrigins)
        {
            var pattern = origin.Replace("://*.", "://wildcard.", StringComparison.Ordinal);
            if (origin != "*" && (!Uri.TryCreate(pattern, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https")
                || parsed.AbsolutePath != "/" || origin.EndsWith('/') || pattern.Contains('*')))
            {
                failures.Add($"Gateway:AllowedOrigins holds '{origin}': an origin is written scheme://host[:port] (https://app.example.com, https://*.example.com), or '*'.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
