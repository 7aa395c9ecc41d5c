using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Realtime.Contracts.Hosting;
using Realtime.Gateway.Observability;

namespace Realtime.Gateway.Core;

/// <summary>What every hub's delivery core is made with; one instance for the gateway.</summary>
internal sealed record HubCoreServices(
    IGrainFactory Grains,
    GatewayReceiver Receiver,
    IHubProtocolResolver Protocols,
    IOptions<GatewayOptions> Options,
    IHostApplicationLifetime Lifetime,
    IOptions<RealtimeStreamsOptions> Streams,
    GatewayMetrics Metrics,
    TimeProvider Time,
    ILoggerFactory Loggers,
    Realtime.Grains.Gateways.PayloadForms? Forms = null,
    SentLog? Sent = null);

/// <summary>
/// Makes each hub's delivery core once, for whichever adapter asks first (SignalR's lifetime manager, the socket.io
/// server, a hub's constructor), so that all of them share it. Dependency injection cannot make
/// <see cref="LocalHub{THub}"/> itself: its constructor takes internal types, and the type is public.
/// </summary>
internal sealed class HubCores(HubCoreServices services)
{
    private readonly ConcurrentDictionary<Type, Lazy<object>> _cores = new();

    public LocalHub<THub> For<THub>() =>
        (LocalHub<THub>)_cores.GetOrAdd(typeof(THub), _ => new Lazy<object>(() => new LocalHub<THub>(services))).Value;
}
